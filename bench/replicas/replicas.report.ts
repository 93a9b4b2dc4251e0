import { REPLICA_PHASES, type ReplicaPhase, type ReplicasConfig } from './replicas.config';
import type { ReplicasRun } from './replicas.scenario';

/** One phase's figures; ratios are per window (one scenario minute) over the limit. */
export interface PhaseFigures {
  phase: ReplicaPhase;
  /** Requests the benchmark offered to the gateways. */
  offered: number;
  /** Gateway answers by status. */
  answers: Record<string, number>;
  /** Chat requests that reached the simulator (attempts of all replicas). */
  upstreamRequests: number;
  /** The most requests that reached the simulator in any one window of the phase, over the limit. */
  peakRatio: number;
  /** Requests that reached the simulator per window, on average, over the limit. */
  meanRatio: number;
  /** Requests the simulator admitted per window, on average, over the limit. */
  admittedRatio: number;
  /** 429s the simulator sent in the phase, and the most in any one window. */
  upstream429: number;
  max429PerWindow: number;
}

export interface ReplicasReport {
  scenario: ReplicasConfig & { limiter: string };
  phases: PhaseFigures[];
  /** 429s the simulator sent, as the gateways counted them (`llm.client.attempts`). */
  gateway429: number | null;
  /** Times a replica fell back from Redis to its local share (`llm.limiter.fallbacks`). */
  fallbacks: number | null;
  target: { peakRatio: number; met: boolean; worstRatio: number; verdict: string };
  /** Requests that reached the simulator in the last window, sampled every quarter window. */
  timeline: Array<{ minute: number; sentRatio: number; admittedRatio: number; rejected: number }>;
  logs: string[][];
}

/** The issue's target: the replicas together stay within 1.02 × the limit. */
export const REPLICAS_TARGET_RATIO = 1.02;

/**
 * Turns the run into figures. Which requests the simulator refused is found by replaying its
 * sliding window (the same rule as src/simulator/rate-limit.window.ts) over the arrival times it
 * recorded: its request log keeps arrivals, not answers. The gateways' own count of 429s is shown
 * next to it as a check.
 */
export function buildReplicasReport(
  config: ReplicasConfig,
  run: ReplicasRun,
  limiter: string,
): ReplicasReport {
  const windowMs = config.minuteMs;
  const decisions = replayWindow(run.upstreamArrivalsMs, windowMs, config.rpm);
  const phases = REPLICA_PHASES.map((phase, i): PhaseFigures => {
    const from = i === 0 ? 0 : run.phaseEndsMs[i - 1]!;
    const to = run.phaseEndsMs[i]!;
    const inPhase = decisions.filter((d) => d.atMs >= from && d.atMs < to);
    const windows = (to - from) / windowMs;
    const answers: Record<string, number> = {};
    for (const r of run.requests) {
      if (r.atMs >= from && r.atMs < to) answers[r.status] = (answers[r.status] ?? 0) + 1;
    }
    return {
      phase,
      offered: run.requests.filter((r) => r.atMs >= from && r.atMs < to).length,
      answers,
      upstreamRequests: inPhase.length,
      peakRatio:
        peakInWindow(
          decisions.map((d) => d.atMs),
          windowMs,
          from,
          to,
        ) / config.rpm,
      meanRatio: inPhase.length / windows / config.rpm,
      admittedRatio: inPhase.filter((d) => d.admitted).length / windows / config.rpm,
      upstream429: inPhase.filter((d) => !d.admitted).length,
      max429PerWindow: peakInWindow(
        decisions.filter((d) => !d.admitted).map((d) => d.atMs),
        windowMs,
        from,
        to,
      ),
    };
  });
  const worst = Math.max(...phases.map((p) => p.peakRatio));
  const met = worst <= REPLICAS_TARGET_RATIO;
  return {
    scenario: { ...config, limiter },
    phases,
    gateway429: sumMetric(run.metrics, 'llm_client_attempts_total', 'llm_outcome="rate_limited"'),
    fallbacks: sumMetric(run.metrics, 'llm_limiter_fallbacks_total'),
    target: {
      peakRatio: REPLICAS_TARGET_RATIO,
      met,
      worstRatio: worst,
      verdict:
        `target ≤ ${REPLICAS_TARGET_RATIO} × the limit in every window: ${met ? 'met' : 'missed'} ` +
        `(worst window ${worst.toFixed(3)} ×; 429s: ` +
        `${phases.map((p) => `${p.upstream429} ${p.phase}`).join(', ')})`,
    },
    timeline: timeline(decisions, run.phaseEndsMs.at(-1) ?? 0, config),
    logs: run.logs,
  };
}

interface Decision {
  atMs: number;
  admitted: boolean;
}

function replayWindow(arrivals: readonly number[], windowMs: number, limit: number): Decision[] {
  const admitted: number[] = [];
  let first = 0;
  return arrivals.map((atMs) => {
    while (first < admitted.length && admitted[first]! + windowMs <= atMs) first++;
    const ok = admitted.length - first < limit;
    if (ok) admitted.push(atMs);
    return { atMs, admitted: ok };
  });
}

/**
 * The most of `times` (sorted) within any `windowMs` that ends in [from, to): a window reaching
 * back into the previous phase counts what arrived there too, as the simulator's window does.
 */
function peakInWindow(
  times: readonly number[],
  windowMs: number,
  from: number,
  to: number,
): number {
  let peak = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first++;
    if (times[last]! >= from && times[last]! < to) peak = Math.max(peak, last - first + 1);
  }
  return peak;
}

function timeline(decisions: readonly Decision[], totalMs: number, config: ReplicasConfig) {
  const windowMs = config.minuteMs;
  const stepMs = windowMs / 4;
  const points: ReplicasReport['timeline'] = [];
  for (let end = windowMs; end <= totalMs; end += stepMs) {
    const inWindow = decisions.filter((d) => d.atMs >= end - windowMs && d.atMs < end);
    points.push({
      minute: end / windowMs,
      sentRatio: inWindow.length / config.rpm,
      admittedRatio: inWindow.filter((d) => d.admitted).length / config.rpm,
      rejected: decisions.filter((d) => !d.admitted && d.atMs >= end - stepMs && d.atMs < end)
        .length,
    });
  }
  return points;
}

/** Sums a Prometheus counter over the gateways (lines with `filter`); null when none has it. */
function sumMetric(metrics: readonly string[], name: string, filter = ''): number | null {
  let total = 0;
  let seen = false;
  for (const text of metrics) {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      seen = true;
      if (line.includes(filter)) total += Number(line.split(' ').at(-1)) || 0;
    }
  }
  return seen ? total : null;
}
