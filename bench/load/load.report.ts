import type { EnforcementModeId } from '../support/enforcement.modes';
import { SortedSamples } from '../report/percentiles';
import type { LoadConfig } from './load.config';
import type { Arrival } from './load.schedule';
import { offeredRates } from './load.schedule';
import type { LoadStrategyId } from './load-strategy';
import type { StrategyRun } from './load.scenario';

/** Latency percentiles in milliseconds. */
export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One strategy's figures under one enforcement mode. */
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
  /** 429s and 503s the simulator sent (retries included). */
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

/** One of the targets, checked for the module under one mode. */
export interface TargetCheck {
  name: string;
  met: boolean;
  /** The measured figure as text: `99.86 %`. */
  measured: string;
  /** The bar as text: `≥ 99.9 %`. */
  bar: string;
}

/** The module's verdict under one mode. */
export interface ModeVerdict {
  met: boolean;
  checks: TargetCheck[];
}

/** Every strategy under one enforcement mode. */
export interface ModeReport {
  id: EnforcementModeId;
  label: string;
  strategies: StrategyFigures[];
  /** Undefined when the module or the oracle did not run. */
  verdict?: ModeVerdict;
}

/** The figures of every mode, and the scenario they share. */
export interface LoadReport {
  scenario: {
    rpm: number;
    requestsPerStrategy: number;
    offeredAveragePerMinute: number;
    offeredPeakPerSecond: number;
    burstSize: number;
    burstSpreadMs: number;
    burstEveryMs: number;
    backgroundPerSecond: number;
    outage: LoadConfig['outage'];
    durationMs: number;
  };
  modes: ModeReport[];
  target: typeof LOAD_TARGET;
}

/** The targets for this module, with its defaults, under every mode. */
export const LOAD_TARGET = {
  successRate: 0.999,
  attemptsPerRequest: 1.05,
  upstream429Rate: 0.001,
  p99: 'no worse than the pacing oracle',
} as const;

export function buildLoadReport(
  config: LoadConfig,
  arrivals: readonly Arrival[],
  modes: ReadonlyArray<{ id: EnforcementModeId; label: string; runs: readonly StrategyRun[] }>,
): LoadReport {
  const rates = offeredRates(arrivals, config);
  return {
    scenario: {
      rpm: config.rpm,
      requestsPerStrategy: arrivals.length,
      offeredAveragePerMinute: rates.averagePerMinute,
      offeredPeakPerSecond: rates.peakPerSecond,
      burstSize: config.burstSize,
      burstSpreadMs: config.burstSpreadMs,
      burstEveryMs: config.burstEveryMs,
      backgroundPerSecond: config.backgroundPerSecond,
      outage: config.outage,
      durationMs: config.durationMs,
    },
    modes: modes.map((mode) => {
      const strategies = mode.runs.map(figures);
      return { id: mode.id, label: mode.label, strategies, verdict: verdictOf(strategies) };
    }),
    target: LOAD_TARGET,
  };
}

function verdictOf(strategies: readonly StrategyFigures[]): ModeVerdict | undefined {
  const module = strategies.find((s) => s.id === 'llm');
  const oracle = strategies.find((s) => s.id === 'oracle');
  if (!module) return undefined;
  const percent = (ratio: number, digits: number) => `${(ratio * 100).toFixed(digits)} %`;
  const rate429 = module.upstream429 / module.requests;
  const checks: TargetCheck[] = [
    {
      name: 'success',
      met: module.successRate >= LOAD_TARGET.successRate,
      measured: percent(module.successRate, 2),
      bar: `≥ ${percent(LOAD_TARGET.successRate, 1)}`,
    },
    {
      name: 'attempts/request',
      met: module.attemptsPerRequest <= LOAD_TARGET.attemptsPerRequest,
      measured: module.attemptsPerRequest.toFixed(3),
      bar: `≤ ${LOAD_TARGET.attemptsPerRequest}`,
    },
    {
      name: 'upstream 429s',
      met: rate429 <= LOAD_TARGET.upstream429Rate,
      measured: `${module.upstream429} (${percent(rate429, 2)})`,
      bar: `≤ ${percent(LOAD_TARGET.upstream429Rate, 1)}`,
    },
  ];
  const p99 = module.latencyMs?.p99;
  const oracleP99 = oracle?.latencyMs?.p99;
  if (oracleP99 !== undefined) {
    checks.push({
      name: 'p99',
      met: p99 !== undefined && p99 <= oracleP99,
      measured: p99 === undefined ? '-' : `${Math.round(p99)} ms`,
      bar: `≤ oracle's ${Math.round(oracleP99)} ms`,
    });
  }
  return { met: checks.every((c) => c.met), checks };
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

/** Nearest-rank percentiles of `values` in ms, or null when there are none. */
export function latency(values: number[]): LatencyMs | null {
  if (values.length === 0) return null;
  const sorted = new SortedSamples(values);
  return { p50: sorted.at(0.5), p95: sorted.at(0.95), p99: sorted.at(0.99), max: sorted.at(1) };
}
