import { latency, type LatencyMs } from '../load/load.report';
import type { OutageConfig } from './outage.config';
import type { OutageRun } from './outage.scenario';

/** Gap between upstream requests that separates one break's probes from the next's. */
const PROBE_CLUSTER_GAP_MS = 500;
/** Success the issue asks for after the outage, within one maximum break. */
const RECOVERED_SUCCESS = 0.99;
export const MAX_BREAK_MS = 30_000;

/** One strategy's figures in the long outage. */
export interface OutageFigures {
  id: string;
  label: string;
  offered: number;
  succeeded: number;
  /** Calls that had not ended when the run stopped waiting. */
  unfinished: number;
  /** Upstream requests while the outage lasted. */
  upstreamDuringOutage: number;
  /** Ms from the outage's start to the circuit's first opening, as the upstream saw it. */
  firstBreakAfterMs: number | null;
  /** Latency of calls sent after the first break that failed during the outage. */
  rejectedAfterBreak: (LatencyMs & { count: number }) | null;
  /** Upstream requests after the first break, grouped into each break's probes. */
  probesPerBreak: { breaks: number; max: number; mean: number; gapsMs: number[] } | null;
  /** Ms after the outage's end from which every later second's calls succeed ≥ 99 %. */
  recoveredAfterMs: number | null;
  /** Per second of the run: calls offered, calls that succeeded, upstream requests. */
  timeline: Array<{ second: number; offered: number; ok: number; upstream: number }>;
}

export interface OutageReport {
  scenario: {
    rpm: number;
    perSecond: number;
    leadMs: number;
    outage: OutageConfig['outage'];
    afterMs: number;
    mode: string;
  };
  strategies: OutageFigures[];
  /** The module's checks against the targets. */
  checks: Array<{ name: string; met: boolean; measured: string; bar: string }>;
}

export function buildOutageReport(config: OutageConfig, runs: readonly OutageRun[]): OutageReport {
  const strategies = runs.map(figures);
  const module = strategies.find((s) => s.id === 'llm');
  return {
    scenario: {
      rpm: config.rpm,
      perSecond: config.perSecond,
      leadMs: config.leadMs,
      outage: config.outage,
      afterMs: config.afterMs,
      mode: config.mode.label,
    },
    strategies,
    checks: module ? checksOf(module) : [],
  };
}

function checksOf(m: OutageFigures): OutageReport['checks'] {
  const p50 = m.rejectedAfterBreak?.p50;
  const probes = m.probesPerBreak;
  return [
    {
      name: 'rejected p50 after the first break',
      met: p50 !== undefined && p50 < 100,
      measured: p50 === undefined ? 'no break' : `${p50.toFixed(1)} ms`,
      bar: '< 100 ms',
    },
    {
      name: 'probes per break',
      met: probes !== null && probes.max <= 1,
      measured: probes === null ? 'no break' : `max ${probes.max}, mean ${probes.mean.toFixed(2)}`,
      bar: '≤ 1',
    },
    {
      name: 'success ≥ 99 % after the outage',
      met: m.recoveredAfterMs !== null && m.recoveredAfterMs <= MAX_BREAK_MS,
      measured:
        m.recoveredAfterMs === null ? 'never' : `${(m.recoveredAfterMs / 1_000).toFixed(1)} s`,
      bar: `within ${MAX_BREAK_MS / 1_000} s`,
    },
  ];
}

function figures(run: OutageRun): OutageFigures {
  const { calls, outageFrom, outageTo } = run;
  const upstreamTimes = run.upstream.map((r) => r.at).sort((a, b) => a - b);
  const firstBreak = calls.some((c) => c.failure === 'circuit_open')
    ? breakStart(upstreamTimes, outageFrom, outageTo)
    : undefined;
  const rejected =
    firstBreak === undefined
      ? []
      : calls.filter((c) => !c.ok && c.sentAt >= firstBreak && c.sentAt < outageTo);
  const rejectedLatency = latency(rejected.map((c) => c.endedAt - c.sentAt));
  return {
    id: run.id,
    label: run.label,
    offered: run.offered,
    succeeded: calls.filter((c) => c.ok).length,
    unfinished: run.offered - calls.length,
    upstreamDuringOutage: upstreamTimes.filter((t) => t >= outageFrom && t < outageTo).length,
    firstBreakAfterMs: firstBreak === undefined ? null : firstBreak - outageFrom,
    rejectedAfterBreak: rejectedLatency && { ...rejectedLatency, count: rejected.length },
    probesPerBreak:
      firstBreak === undefined
        ? null
        : probeClusters(
            upstreamTimes.filter((t) => t >= firstBreak && t < outageTo),
            firstBreak,
          ),
    recoveredAfterMs: recoveredAfter(run),
    timeline: timelineOf(run),
  };
}

/**
 * When the circuit first opened, as the upstream saw it: the last request before the first
 * second-long silence in the outage. At 5 calls per second, with retries, a second without a
 * request happens by chance about once in 150 seconds; an open circuit makes them certain.
 */
function breakStart(times: readonly number[], from: number, to: number): number | undefined {
  const inOutage = times.filter((t) => t >= from && t < to);
  for (let i = 0; i + 1 < inOutage.length; i++) {
    if (inOutage[i + 1]! - inOutage[i]! >= 1_000) return inOutage[i]! + 1;
  }
  return undefined;
}

// Each break ends with its probes: requests close together, far from the next break's.
function probeClusters(times: readonly number[], firstBreak: number) {
  const clusters: number[][] = [];
  for (const t of times) {
    const last = clusters.at(-1);
    if (last && t - last.at(-1)! < PROBE_CLUSTER_GAP_MS) last.push(t);
    else clusters.push([t]);
  }
  const starts = [firstBreak, ...clusters.map((c) => c[0]!)];
  const gapsMs = clusters.map((c, i) => c[0]! - starts[i]!);
  const sizes = clusters.map((c) => c.length);
  return {
    breaks: clusters.length,
    max: Math.max(0, ...sizes),
    mean: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0,
    gapsMs,
  };
}

// The first second after the outage from which every later second's calls succeed ≥ 99 %.
function recoveredAfter(run: OutageRun): number | null {
  const after = run.calls.filter((c) => c.sentAt >= run.outageTo);
  if (after.length === 0) return null;
  const lastSecond = Math.floor((after.at(-1)!.sentAt - run.outageTo) / 1_000);
  for (let s = 0; s <= lastSecond; s++) {
    const from = run.outageTo + s * 1_000;
    const later = after.filter((c) => c.sentAt >= from);
    if (later.filter((c) => c.ok).length >= RECOVERED_SUCCESS * later.length) return s * 1_000;
  }
  return null;
}

function timelineOf(run: OutageRun): OutageFigures['timeline'] {
  const seconds = new Map<number, { offered: number; ok: number; upstream: number }>();
  const bucket = (at: number) => {
    const second = Math.floor((at - run.startedAt) / 1_000);
    let entry = seconds.get(second);
    if (!entry) seconds.set(second, (entry = { offered: 0, ok: 0, upstream: 0 }));
    return entry;
  };
  for (const c of run.calls) {
    const entry = bucket(c.sentAt);
    entry.offered++;
    if (c.ok) entry.ok++;
  }
  for (const r of run.upstream) if (r.at >= run.startedAt) bucket(r.at).upstream++;
  return [...seconds]
    .filter(([second]) => second >= 0)
    .sort(([a], [b]) => a - b)
    .map(([second, e]) => ({ second, ...e }));
}
