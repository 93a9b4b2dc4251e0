import { SortedSamples } from '../percentiles';
import type { LoadConfig } from './load.config';
import { realMs } from './load.config';
import type { Arrival } from './load.schedule';
import { offeredRates } from './load.schedule';
import { type LoadStrategyId, MODULE_STRATEGY_IDS } from './load-strategy';
import type { StrategyRun } from './load.scenario';

/** Latency percentiles in milliseconds. */
export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One strategy's figures. */
export interface StrategyFigures {
  id: LoadStrategyId;
  label: string;
  description: string;
  requests: number;
  succeeded: number;
  successRate: number;
  /** Chat requests the simulator received, per logical request. */
  attemptsPerRequest: number;
  upstreamRequests: number;
  /** 429s and 503s the client received from the upstream (retries included). */
  upstream429: number;
  upstream503: number;
  upstreamAnswers: Record<string, number>;
  /** Why requests failed, with counts. */
  failures: Record<string, number>;
  /** Latency of successful requests, from the moment the request was offered. */
  latencyMs: LatencyMs | null;
  /** Latency of all requests, failures included. */
  latencyAllMs: LatencyMs | null;
}

/** The target's verdict for one configuration of this module. */
export interface TargetVerdict {
  id: LoadStrategyId;
  label: string;
  met: boolean;
  /** What fell short: `success rate`, `attempts per request`. */
  missed: string[];
  successRate: number;
  attemptsPerRequest: number;
}

/** The figures, plus what the plot's timeline needs. */
export interface LoadReport {
  scenario: {
    minuteMs: number;
    rpm: number;
    requestsPerStrategy: number;
    offeredAveragePerMinute: number;
    offeredPeakPerMinute: number;
    burstSize: number;
    burstEveryS: number;
    outage: LoadConfig['outage'] & { realMs: number };
    realDurationS: number;
  };
  strategies: StrategyFigures[];
  target: {
    successRate: number;
    attemptsPerRequest: number;
    /** The verdict for each configuration of this module that ran. */
    verdicts: TargetVerdict[];
  };
  /** Failed requests per strategy and scenario-minute bucket, by arrival time. */
  timeline: Array<{
    id: LoadStrategyId;
    label: string;
    minute: number;
    offered: number;
    failed: number;
  }>;
}

/** The target for this module. */
export const LOAD_TARGET = { successRate: 0.999, attemptsPerRequest: 1.05 } as const;

export function buildLoadReport(
  config: LoadConfig,
  arrivals: readonly Arrival[],
  runs: readonly StrategyRun[],
): LoadReport {
  const strategies = runs.map((run) => figures(run));
  const verdicts = strategies.filter((s) => MODULE_STRATEGY_IDS.includes(s.id)).map(verdictOf);
  const rates = offeredRates(arrivals, config);
  return {
    scenario: {
      minuteMs: config.minuteMs,
      rpm: config.rpm,
      requestsPerStrategy: arrivals.length,
      offeredAveragePerMinute: rates.averagePerMinute,
      offeredPeakPerMinute: rates.peakPerMinute,
      burstSize: config.burstSize,
      burstEveryS: config.burstEveryS,
      outage: { ...config.outage, realMs: realMs(config, config.outage.durationS) },
      realDurationS: realMs(config, config.durationS) / 1_000,
    },
    strategies,
    target: { ...LOAD_TARGET, verdicts },
    timeline: runs.flatMap((run) => timeline(run, config)),
  };
}

function verdictOf(module: StrategyFigures): TargetVerdict {
  const missed: string[] = [];
  if (module.successRate < LOAD_TARGET.successRate) missed.push('success rate');
  if (module.attemptsPerRequest > LOAD_TARGET.attemptsPerRequest) {
    missed.push('attempts per request');
  }
  const { id, label, successRate, attemptsPerRequest } = module;
  return { id, label, met: missed.length === 0, missed, successRate, attemptsPerRequest };
}

function figures(run: StrategyRun): StrategyFigures {
  const ok = run.results.filter((r) => r.ok);
  const failures: Record<string, number> = {};
  for (const r of run.results) {
    if (!r.ok) failures[r.failure ?? 'error'] = (failures[r.failure ?? 'error'] ?? 0) + 1;
  }
  return {
    id: run.id,
    label: run.label,
    description: run.description,
    requests: run.results.length,
    succeeded: ok.length,
    successRate: ok.length / run.results.length,
    attemptsPerRequest: run.upstreamRequests / run.results.length,
    upstreamRequests: run.upstreamRequests,
    upstream429: run.upstreamAnswers['429'] ?? 0,
    upstream503: run.upstreamAnswers['503'] ?? 0,
    upstreamAnswers: run.upstreamAnswers,
    failures,
    latencyMs: latency(ok.map((r) => r.latencyMs)),
    latencyAllMs: latency(run.results.map((r) => r.latencyMs).filter(Number.isFinite)),
  };
}

function latency(values: number[]): LatencyMs | null {
  if (values.length === 0) return null;
  const sorted = new SortedSamples(values);
  return { p50: sorted.at(0.5), p95: sorted.at(0.95), p99: sorted.at(0.99), max: sorted.at(1) };
}

// Half-minute buckets: bursts and the outage stand out, the background stays readable.
function timeline(run: StrategyRun, config: LoadConfig): LoadReport['timeline'] {
  const bucketMs = config.minuteMs / 2;
  const buckets = Math.ceil(realMs(config, config.durationS) / bucketMs);
  const offered = new Array<number>(buckets).fill(0);
  const failed = new Array<number>(buckets).fill(0);
  for (const r of run.results) {
    const b = Math.min(buckets - 1, Math.floor(r.atMs / bucketMs));
    offered[b]!++;
    if (!r.ok) failed[b]!++;
  }
  return offered.map((n, b) => ({
    id: run.id,
    label: run.label,
    minute: b / 2,
    offered: n,
    failed: failed[b]!,
  }));
}
