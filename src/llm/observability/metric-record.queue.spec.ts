import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram as HistogramPoint,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  addLater,
  flushBeforeCollection,
  flushMetricRecords,
  MAX_HELD_SERIES,
  MAX_QUEUED,
  recordLater,
} from './metric-record.queue';

/** Reads what the provider holds, on demand. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An instrument that notes what it was given and when (the SDK's stand-in where it is not read). */
function noting(): { calls: [number, Attributes | undefined][] } & Counter & Histogram {
  const calls: [number, Attributes | undefined][] = [];
  const note = (value: number, attributes?: Attributes) => void calls.push([value, attributes]);
  return { calls, add: note, record: note };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('metric-record.queue', () => {
  afterEach(() => flushMetricRecords());

  it('hands measurements to the instrument on the next turn, not during this one', async () => {
    const histogram = noting();
    recordLater(histogram, 0.25, { a: '1' });
    recordLater(histogram, 0.5, { a: '2' });
    await Promise.resolve();
    expect(histogram.calls).toEqual([]);
    await nextTurn();
    expect(histogram.calls).toEqual([
      [0.25, { a: '1' }],
      [0.5, { a: '2' }],
    ]);
  });

  it("hands a series' first increment on the next turn and sums the later ones until the collection", async () => {
    const counter = noting();
    const success = { outcome: 'success' };
    const failed = { outcome: 'timeout' };
    addLater(counter, 1, success);
    addLater(counter, 1, success);
    addLater(counter, 1, failed);
    addLater(counter, 2, success);
    await nextTurn();
    // Each series' first increment, in the order the series appeared.
    expect(counter.calls).toEqual([
      [1, success],
      [1, failed],
    ]);
    addLater(counter, 4, failed);
    await nextTurn();
    expect(counter.calls).toHaveLength(2);
    // The collection's hook: one add per series, with what it counted since.
    flushMetricRecords();
    expect(counter.calls.slice(2)).toEqual([
      [3, success],
      [4, failed],
    ]);
    // After a collection, a series' next increment is its first again: on the next turn.
    addLater(counter, 1, success);
    addLater(counter, 1, success);
    await nextTurn();
    expect(counter.calls.slice(4)).toEqual([[1, success]]);
    flushMetricRecords();
    expect(counter.calls.slice(5)).toEqual([[1, success]]);
  });

  it('holds at most MAX_HELD_SERIES counter series; the others go on the next turn', async () => {
    const counter = noting();
    const series = Array.from({ length: MAX_HELD_SERIES + 1 }, (_, i) => ({ n: i }));
    for (const attributes of series) addLater(counter, 1, attributes);
    await nextTurn();
    expect(counter.calls).toHaveLength(MAX_HELD_SERIES + 1);
    for (const attributes of series) addLater(counter, 2, attributes);
    await nextTurn();
    // Only the series past the bound was handed on; the held ones wait for the collection.
    expect(counter.calls.slice(MAX_HELD_SERIES + 1)).toEqual([[2, series[MAX_HELD_SERIES]]]);
    flushMetricRecords();
    expect(counter.calls).toHaveLength(2 * (MAX_HELD_SERIES + 1));
  });

  it('hands everything on at once when the queue holds MAX_QUEUED measurements', () => {
    const histogram = noting();
    for (let i = 0; i < MAX_QUEUED; i++) recordLater(histogram, i, {});
    expect(histogram.calls).toHaveLength(MAX_QUEUED);
    expect(histogram.calls[MAX_QUEUED - 1]![0]).toBe(MAX_QUEUED - 1);
  });

  describe('with an SDK', () => {
    let provider: MeterProvider | undefined;
    afterEach(() => provider?.shutdown());

    it('a collection right after the measurement sees it, in every hooked meter', async () => {
      const reader = new TestReader();
      provider = new MeterProvider({ readers: [reader] });
      const calls = provider.getMeter('a').createCounter('calls');
      const duration = provider.getMeter('b').createHistogram('duration', {
        advice: { explicitBucketBoundaries: [1, 2] },
      });
      flushBeforeCollection(provider.getMeter('a'));
      flushBeforeCollection(provider.getMeter('b'));
      const success = { outcome: 'success' };
      addLater(calls, 1, success);
      await nextTurn();
      // Held for the collection.
      addLater(calls, 1, success);
      addLater(calls, 1, success);
      recordLater(duration, 1.5, { route: '/x' });

      const { resourceMetrics } = await reader.collect();

      const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
      // The hooks themselves export nothing: only the two instruments recorded into.
      expect(metrics.map((m) => m.descriptor.name).sort()).toEqual(['calls', 'duration']);
      const counted = metrics.find((m) => m.descriptor.name === 'calls')!.dataPoints;
      expect(counted.map((p) => [p.attributes, p.value])).toEqual([[{ outcome: 'success' }, 3]]);
      const [point] = metrics.find((m) => m.descriptor.name === 'duration')!
        .dataPoints as DataPoint<HistogramPoint>[];
      expect(point!.attributes).toEqual({ route: '/x' });
      expect(point!.value).toMatchObject({ count: 1, sum: 1.5, buckets: { counts: [0, 1, 0] } });
    });

    it("the provider's shutdown exports what was still queued or held", async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      provider = new MeterProvider({
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
      });
      const meter = provider.getMeter('a');
      flushBeforeCollection(meter);
      const calls = meter.createCounter('calls');
      const success = { outcome: 'success' };
      addLater(calls, 3, success);
      await nextTurn();
      addLater(calls, 2, success);

      await provider.shutdown();
      provider = undefined;

      const exported = exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
        .filter((m) => m.descriptor.name === 'calls');
      expect(exported.flatMap((m) => m.dataPoints.map((p) => p.value))).toEqual([5]);
    });
  });
});
