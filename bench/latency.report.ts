import type { CallPath } from './call-paths';
import type { PathSamples } from './latency.scenario';
import { CURVE_QUANTILES, type LatencySummary, SortedSamples } from './percentiles';
import type { ThroughputResult } from './throughput.scenario';

/** One path's figures, in microseconds. */
export interface PathFigures {
  id: CallPath['id'];
  label: string;
  summary: LatencySummary;
}

/** What LlmClient adds over the direct axios call: differences in µs and ratios B/A. */
export interface AddedLatency {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  ratioP50: number;
  ratioP99: number;
  ratioMean: number;
}

export interface ThroughputFigures extends PathFigures {
  calls: number;
  wallMs: number;
  callsPerSecond: number;
}

/** Everything the table, the markdown, the JSON and the plot show. */
export interface LatencyReport {
  sequential: PathFigures[];
  added: AddedLatency;
  targetP99AddedUs: number;
  targetMet: boolean;
  /** Percentile curves of the sequential scenario, one point per path and quantile. */
  curves: Array<{ id: CallPath['id']; label: string; quantile: number; us: number }>;
  throughput?: { concurrency: number; paths: ThroughputFigures[]; ratio: number };
}

/** Turns raw samples into the report; the baseline is `axios`, the subject is `llm`. */
export function buildLatencyReport(
  paths: readonly CallPath[],
  samples: PathSamples,
  targetP99AddedUs: number,
  throughput?: { concurrency: number; results: ThroughputResult[] },
): LatencyReport {
  const label = (id: CallPath['id']): string => paths.find((p) => p.id === id)?.label ?? id;
  const sorted = paths.map((p) => ({ path: p, samples: new SortedSamples(samples.get(p.id)!) }));
  const sequential = sorted.map(({ path, samples: s }) => ({
    id: path.id,
    label: path.label,
    summary: s.summary(),
  }));
  const base = figuresOf(sequential, 'axios');
  const subject = figuresOf(sequential, 'llm');
  const added: AddedLatency = {
    p50Us: subject.p50 - base.p50,
    p90Us: subject.p90 - base.p90,
    p99Us: subject.p99 - base.p99,
    meanUs: subject.mean - base.mean,
    ratioP50: subject.p50 / base.p50,
    ratioP99: subject.p99 / base.p99,
    ratioMean: subject.mean / base.mean,
  };
  const curves = sorted.flatMap(({ path, samples: s }) =>
    CURVE_QUANTILES.map((q) => ({ id: path.id, label: path.label, quantile: q, us: s.at(q) })),
  );
  return {
    sequential,
    added,
    targetP99AddedUs,
    targetMet: added.p99Us < targetP99AddedUs,
    curves,
    throughput: throughput && throughputFigures(throughput, label),
  };
}

function throughputFigures(
  input: { concurrency: number; results: ThroughputResult[] },
  label: (id: CallPath['id']) => string,
): LatencyReport['throughput'] {
  const paths = input.results.map((r) => ({
    id: r.id,
    label: label(r.id),
    summary: new SortedSamples(r.latenciesUs).summary(),
    calls: r.calls,
    wallMs: r.wallMs,
    callsPerSecond: r.callsPerSecond,
  }));
  const rate = (id: CallPath['id']): number => paths.find((p) => p.id === id)?.callsPerSecond ?? 0;
  return { concurrency: input.concurrency, paths, ratio: rate('llm') / rate('axios') };
}

function figuresOf(figures: PathFigures[], id: CallPath['id']): LatencySummary {
  const found = figures.find((f) => f.id === id);
  if (!found) throw new Error(`The report needs the '${id}' path; it was not measured.`);
  return found.summary;
}
