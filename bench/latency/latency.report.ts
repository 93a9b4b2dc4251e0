import type { CallPath, CallPathId } from './call-paths';
import type { PathSamples } from './latency.scenario';
import { CURVE_QUANTILES, type LatencySummary, SortedSamples } from '../report/percentiles';
import type { ThroughputResult } from './throughput.scenario';

/** One path's figures, in microseconds. */
export interface PathFigures {
  id: CallPathId;
  label: string;
  summary: LatencySummary;
}

/** What LlmClient adds over the direct Node `http` call: differences in µs and ratios B/A. */
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

/** What LlmClient with a rate limiter adds over the direct Node `http` call, against its own target. */
export interface LimiterFigures {
  id: Extract<CallPathId, 'llm-memory' | 'llm-redis'>;
  label: string;
  added: AddedLatency;
  targetP99AddedUs: number;
  targetMet: boolean;
}

/** The targets for the added p99 with a limiter, in µs. */
export const LIMITER_TARGETS_US = { 'llm-memory': 1_000, 'llm-redis': 3_000 } as const;

/** Everything the table, the markdown, the JSON and the plot show. */
export interface LatencyReport {
  sequential: PathFigures[];
  /** LlmClient without a rate limiter (the module's default) over the direct Node `http` call. */
  added: AddedLatency;
  targetP99AddedUs: number;
  targetMet: boolean;
  /** LlmClient with the in-memory and the Redis rate limiter, when they were measured. */
  limiters: LimiterFigures[];
  /** Why a limiter path was not measured, if one was not. */
  limitersPending?: string;
  /** Percentile curves of the sequential scenario, one point per path and quantile. */
  curves: Array<{ id: CallPathId; label: string; quantile: number; us: number }>;
  throughput?: { concurrency: number; paths: ThroughputFigures[]; ratio: number };
}

/** Turns raw samples into the report; the baseline is `http`, the subject is `llm`. */
export function buildLatencyReport(
  paths: readonly CallPath[],
  samples: PathSamples,
  targetP99AddedUs: number,
  throughput?: { concurrency: number; results: ThroughputResult[] },
  limitersPending?: string,
): LatencyReport {
  const label = (id: CallPathId): string => paths.find((p) => p.id === id)?.label ?? id;
  const sorted = paths.map((p) => ({ path: p, samples: new SortedSamples(samples.get(p.id)!) }));
  const sequential = sorted.map(({ path, samples: s }) => ({
    id: path.id,
    label: path.label,
    summary: s.summary(),
  }));
  const base = figuresOf(sequential, 'http');
  const added = addedOver(base, figuresOf(sequential, 'llm'));
  const limiters = (['llm-memory', 'llm-redis'] as const)
    .filter((id) => sequential.some((f) => f.id === id))
    .map((id): LimiterFigures => {
      const limiterAdded = addedOver(base, figuresOf(sequential, id));
      const target = LIMITER_TARGETS_US[id];
      return {
        id,
        label: label(id),
        added: limiterAdded,
        targetP99AddedUs: target,
        targetMet: limiterAdded.p99Us < target,
      };
    });
  const curves = sorted.flatMap(({ path, samples: s }) =>
    CURVE_QUANTILES.map((q) => ({ id: path.id, label: path.label, quantile: q, us: s.at(q) })),
  );
  return {
    sequential,
    added,
    targetP99AddedUs,
    targetMet: added.p99Us < targetP99AddedUs,
    limiters,
    limitersPending,
    curves,
    throughput: throughput && throughputFigures(throughput, label),
  };
}

function throughputFigures(
  input: { concurrency: number; results: ThroughputResult[] },
  label: (id: CallPathId) => string,
): LatencyReport['throughput'] {
  const paths = input.results.map((r) => ({
    id: r.id,
    label: label(r.id),
    summary: new SortedSamples(r.latenciesUs).summary(),
    calls: r.calls,
    wallMs: r.wallMs,
    callsPerSecond: r.callsPerSecond,
  }));
  const rate = (id: CallPathId): number => paths.find((p) => p.id === id)?.callsPerSecond ?? 0;
  return { concurrency: input.concurrency, paths, ratio: rate('llm') / rate('http') };
}

function addedOver(base: LatencySummary, subject: LatencySummary): AddedLatency {
  return {
    p50Us: subject.p50 - base.p50,
    p90Us: subject.p90 - base.p90,
    p99Us: subject.p99 - base.p99,
    meanUs: subject.mean - base.mean,
    ratioP50: subject.p50 / base.p50,
    ratioP99: subject.p99 / base.p99,
    ratioMean: subject.mean / base.mean,
  };
}

function figuresOf(figures: PathFigures[], id: CallPathId): LatencySummary {
  const found = figures.find((f) => f.id === id);
  if (!found) throw new Error(`The report needs the '${id}' path; it was not measured.`);
  return found.summary;
}
