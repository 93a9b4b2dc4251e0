import { metrics } from '@opentelemetry/api';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { EventDeliveryReporter } from './event-delivery.reporter';

class PullReader extends MetricReader {
  protected onForceFlush = (): Promise<void> => Promise.resolve();
  protected onShutdown = (): Promise<void> => Promise.resolve();
}

describe('EventDeliveryReporter', () => {
  const lines: string[] = [];
  const logger = { warn: (line: string) => void lines.push(line) };
  beforeEach(() => (lines.length = 0));

  it('warns about the first drop at once, then at most once per interval with the counts since', () => {
    const reporter = new EventDeliveryReporter(logger, 30_000, metrics.getMeter('test'));
    reporter.dropped('buffer_full', 1);
    reporter.dropped('buffer_full', 4);
    reporter.dropped('rejected', 2, 'document_parsing_exception');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Dropped 1 business event(s) (buffer_full: 1)');

    reporter.warnIfDue(false, Date.now() + 10_000);
    expect(lines).toHaveLength(1);
    reporter.warnIfDue(false, Date.now() + 31_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(
      'Dropped 6 business event(s) (buffer_full: 4, rejected (document_parsing_exception): 2)',
    );
    expect(lines[1]).toContain('llm.events.dropped');
  });

  it('has every drop reason at 0 from the start: a first burst of drops is an increase to Prometheus', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    new EventDeliveryReporter(logger, 30_000, provider.getMeter('test'));
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === 'llm.events.dropped')
      .flatMap((metric) => metric.dataPoints as DataPoint<number>[]);
    const reasons = points.map((point) => [
      String(point.attributes['llm.drop.reason']),
      point.value,
    ]);
    expect(reasons.sort()).toEqual([
      ['buffer_full', 0],
      ['rejected', 0],
      ['shutdown', 0],
      ['unserializable', 0],
      ['write_failed', 0],
    ]);
    await provider.shutdown();
  });

  it('says nothing when nothing was dropped, even when forced', () => {
    const reporter = new EventDeliveryReporter(logger, 30_000, metrics.getMeter('test'));
    reporter.exported(3);
    reporter.warnIfDue(true);
    expect(lines).toEqual([]);
  });

  it('points at the Elasticsearch buffer only when the buffer was full', () => {
    const reporter = new EventDeliveryReporter(logger, 30_000, metrics.getMeter('test'));
    reporter.dropped('write_failed', 2);
    expect(lines[0]).toContain('Dropped 2 business event(s) (write_failed: 2)');
    expect(lines[0]).not.toContain('maxBufferedEvents');
    reporter.dropped('buffer_full', 1);
    reporter.warnIfDue(true);
    expect(lines[1]).toContain('maxBufferedEvents');
  });
});
