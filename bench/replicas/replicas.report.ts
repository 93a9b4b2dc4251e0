import { REPLICA_PHASES, type ReplicaPhase, type ReplicasConfig } from './replicas.config';
import type { ReplicasRun } from './replicas.scenario';

/** One phase's figures; ratios are per clock-aligned 1 s interval over the limit / 60. */
export interface PhaseFigures {
  phase: ReplicaPhase;
  /** Requests the benchmark offered to the gateways. */
  offered: number;
  /** Gateway answers by status. */
  answers: Record<string, number>;
  /** Chat requests that reached the simulator (attempts of all replicas). */
  upstreamRequests: number;
  /** The most requests that reached the simulator in one 1 s interval, over limit / 60. */
  peakRatio: number;
  /** Requests that reached the simulator per interval, on average, over limit / 60. */
  meanRatio: number;
  /** Intervals above the phase's bar. */
  intervalsOver: number;
  /** 429s the simulator sent in the phase. */
  upstream429: number;
  /** The phase's bar: 1.02 while Redis is up, 1.1 once it was killed. */
  bar: number;
  met: boolean;
}

export interface ReplicasReport {
  scenario: ReplicasConfig & { limiter: string; perInterval: number };
  phases: PhaseFigures[];
  /** 429s the simulator sent, as the gateways counted them (`llm.client.attempts`). */
  gateway429: number | null;
  /** Times a replica fell back from Redis to its local share (`llm.limiter.fallbacks`). */
  fallbacks: number | null;
  target: { met: boolean; verdict: string };
  /** Per 1 s interval: what reached the simulator over limit / 60, and its 429s. */
  timeline: Array<{ second: number; sentRatio: number; rejected: number }>;
  logs: string[][];
}

/** The bars: Redis up ≤ 1.02 × limit / 60 per 1 s interval; Redis killed ≤ 1.1 ×. */
export const REPLICAS_BARS: Readonly<Record<ReplicaPhase, number>> = {
  'redis up': 1.02,
  'redis killed': 1.1,
  'redis back': 1.1,
};

/**
 * Turns the run into figures: the simulator's own record of every request (its clock, the
 * status it answered), counted per clock-aligned 1 s interval, as the simulator enforced it.
 * The first interval of the run is left out (the "every 1 s interval after the first").
 */
export function buildReplicasReport(
  config: ReplicasConfig,
  run: ReplicasRun,
  limiter: string,
): ReplicasReport {
  const perInterval = config.rpm / 60;
  const first = Math.floor(run.startedAt / 1_000) + 1;
  const last = Math.floor((run.upstream.at(-1)?.at ?? run.startedAt) / 1_000);
  const sent = new Map<number, number>();
  const rejected = new Map<number, number>();
  for (const r of run.upstream) {
    const second = Math.floor(r.at / 1_000);
    sent.set(second, (sent.get(second) ?? 0) + 1);
    if (r.status === 429) rejected.set(second, (rejected.get(second) ?? 0) + 1);
  }
  const phaseOf = (second: number): number => {
    const ms = second * 1_000 - run.startedAt;
    const index = run.phaseEndsMs.findIndex((end) => ms < end);
    return index === -1 ? REPLICA_PHASES.length - 1 : index;
  };
  const timeline: ReplicasReport['timeline'] = [];
  for (let second = first; second <= last; second++) {
    timeline.push({
      second: second - first + 1,
      sentRatio: (sent.get(second) ?? 0) / perInterval,
      rejected: rejected.get(second) ?? 0,
    });
  }
  const phases = REPLICA_PHASES.map((phase, i): PhaseFigures => {
    const inPhase = timeline.filter((t) => phaseOf(t.second + first - 1) === i);
    const from = i === 0 ? 0 : run.phaseEndsMs[i - 1]!;
    const to = run.phaseEndsMs[i]!;
    const offered = run.requests.filter((r) => r.atMs >= from && r.atMs < to);
    const answers: Record<string, number> = {};
    for (const r of offered) answers[r.status] = (answers[r.status] ?? 0) + 1;
    const bar = REPLICAS_BARS[phase];
    const ratios = inPhase.map((t) => t.sentRatio);
    const upstream429 = inPhase.reduce((sum, t) => sum + t.rejected, 0);
    const peakRatio = Math.max(0, ...ratios);
    return {
      phase,
      offered: offered.length,
      answers,
      upstreamRequests: Math.round(ratios.reduce((a, b) => a + b, 0) * perInterval),
      peakRatio,
      meanRatio: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : 0,
      intervalsOver: ratios.filter((r) => r > bar).length,
      upstream429,
      bar,
      met: peakRatio <= bar && upstream429 === 0,
    };
  });
  const met = phases.every((p) => p.met);
  return {
    scenario: { ...config, limiter, perInterval },
    phases,
    gateway429: sumMetric(run.metrics, 'llm_client_attempts_total', 'llm_outcome="rate_limited"'),
    fallbacks: sumMetric(run.metrics, 'llm_limiter_fallbacks_total'),
    target: {
      met,
      verdict:
        `target ≤ 1.02 × limit/60 in every 1 s interval with Redis up, ≤ 1.1 × once it is killed, ` +
        `0 upstream 429s: ${met ? 'met' : 'missed'} (` +
        phases
          .map((p) => `${p.phase}: worst ${p.peakRatio.toFixed(2)} ×, ${p.upstream429} × 429`)
          .join('; ') +
        ')',
    },
    timeline,
    logs: run.logs,
  };
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
