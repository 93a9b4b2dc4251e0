/** Latency figures of one path, in microseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Samples sorted ascending, kept so percentiles and curves read the same order. */
export class SortedSamples {
  private readonly sorted: Float64Array;

  constructor(samples: ArrayLike<number>) {
    this.sorted = Float64Array.from(samples).sort();
    if (this.sorted.length === 0) throw new Error('No samples: a path made no measured call.');
  }

  get count(): number {
    return this.sorted.length;
  }

  /**
   * Nearest-rank percentile (the smallest sample with at least `q` of samples at or below it),
   * the definition HdrHistogram and most load tools report; `q` is in [0, 1].
   */
  at(q: number): number {
    const rank = Math.ceil(q * this.sorted.length);
    const index = Math.min(this.sorted.length - 1, Math.max(0, rank - 1));
    return this.sorted[index] ?? Number.NaN;
  }

  summary(): LatencySummary {
    let total = 0;
    for (const value of this.sorted) total += value;
    return {
      count: this.sorted.length,
      mean: total / this.sorted.length,
      min: this.at(0),
      p50: this.at(0.5),
      p90: this.at(0.9),
      p99: this.at(0.99),
      p999: this.at(0.999),
      max: this.at(1),
    };
  }
}

/** Percentiles a percentile curve is drawn through, from the median to p99.9. */
export const CURVE_QUANTILES: readonly number[] = [
  0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.9925,
  0.995, 0.9965, 0.998, 0.999,
];
