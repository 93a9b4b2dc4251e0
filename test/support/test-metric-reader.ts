import type { Attributes } from '@opentelemetry/api';
import {
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';

/** A pull reader for tests: `read()` collects what the SDK holds right now. */
export class TestMetricReader extends MetricReader {
  async read(): Promise<MetricsSnapshot> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0)
      throw new Error(`metric collection failed: ${errors.map(String).join()}`);
    return new MetricsSnapshot(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics));
  }

  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Whether a data point carries every given attribute with the given value. */
function matches(point: DataPoint<unknown>, subset: Attributes): boolean {
  return Object.entries(subset).every(([key, value]) => point.attributes[key] === value);
}

/** One collection, with lookups by metric name and a subset of attributes. */
export class MetricsSnapshot {
  constructor(readonly metrics: MetricData[]) {}

  metric(name: string): MetricData | undefined {
    return this.metrics.find((metric) => metric.descriptor.name === name);
  }

  points(name: string, subset: Attributes = {}): DataPoint<unknown>[] {
    const metric = this.metric(name);
    const points = (metric?.dataPoints ?? []) as DataPoint<unknown>[];
    return points.filter((point) => matches(point, subset));
  }

  /** Sum of a counter's matching series (0 when none matches). */
  sum(name: string, subset: Attributes = {}): number {
    return this.points(name, subset).reduce((total, point) => total + (point.value as number), 0);
  }

  /** The value of the one gauge series with these attributes. */
  gauge(name: string, subset: Attributes): number | undefined {
    const points = this.points(name, subset);
    if (points.length > 1) throw new Error(`${points.length} series of ${name} match`);
    return points[0]?.value as number | undefined;
  }

  /** The matching histogram series. */
  histograms(name: string, subset: Attributes = {}): DataPoint<Histogram>[] {
    const metric = this.metric(name);
    if (metric && metric.dataPointType !== DataPointType.HISTOGRAM) {
      throw new Error(`${name} is not a histogram`);
    }
    return this.points(name, subset) as DataPoint<Histogram>[];
  }

  /** Every attribute value recorded by any series. */
  attributeValues(): unknown[] {
    return this.metrics.flatMap((metric) =>
      (metric.dataPoints as DataPoint<unknown>[]).flatMap((p) => Object.values(p.attributes)),
    );
  }
}
