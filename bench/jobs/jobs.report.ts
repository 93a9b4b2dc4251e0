import { SortedSamples } from '../report/percentiles';
import type { JobsBenchConfig } from './jobs.config';
import type { JobsBenchRun, JobsScenarioRun } from './jobs.scenario';

/** Wait percentiles, seconds. */
export interface WaitFigures {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface JobsPathFigures {
  name: string;
  offered: number;
  accepted: number;
  completed: number;
  completedWithinDeadline: number;
  failed: Record<string, number>;
  /** Accepted jobs with no end state when the run stopped. */
  lost: number;
  /** Jobs whose completion was stored more than once (the store's pub/sub said so). */
  duplicated: number;
  /** Jobs whose request reached the upstream more than once (re-run after a crash or a 429). */
  rerun: number;
  upstreamRequests: number;
  attemptsPerJob: number;
  upstream429: number;
  upstream429Share: number;
  delayedJobs: number;
  /** From enqueue to the start of the run that answered. */
  queueWaitS: WaitFigures;
  /** From enqueue to the stored result. */
  resultS: WaitFigures;
  drainedAtS: number;
  kill?: { atS: number; restartedAtS: number };
  /** Every target of the issue met. */
  met: boolean;
}

export interface SyncFigures {
  offered: number;
  succeeded: number;
  successRate: number;
  failures: Record<string, number>;
  latencyS: WaitFigures;
  upstreamRequests: number;
  upstream429: number;
}

export interface JobsReport {
  scenario: JobsBenchConfig;
  sync: SyncFigures;
  jobs: JobsPathFigures[];
  /** Completions per 5 s by path, for the plot. */
  timeline: { second: number; path: string; completed: number }[];
  verdict: string;
}

const TARGETS = { attemptsPerJob: 1.05, upstream429Share: 0.001 };

/** Turns the run into the figures the issue's targets are about. */
export function buildJobsReport(config: JobsBenchConfig, run: JobsBenchRun): JobsReport {
  const limit = config.rpm;
  const sync = syncFigures(run, limit);
  const jobs = run.scenarios.map((s) => pathFigures(s, limit));
  const timeline = [
    ...bucket(
      run.sync.calls.filter((c) => c.outcome === 'success').map((c) => c.atMs + c.latencyMs),
      'synchronous (successes)',
    ),
    ...run.scenarios.flatMap((s) =>
      bucket(
        s.jobs.flatMap((j) =>
          j.job?.state === 'completed' && j.job.endedAt ? [j.job.endedAt - run.startedAt] : [],
        ),
        s.name,
      ),
    ),
  ];
  const met = jobs.every((j) => j.met);
  const verdict =
    `${met ? 'Targets met' : 'Targets missed'}: jobs ${jobs.map((j) => `${pct(j.completedWithinDeadline / Math.max(j.accepted, 1))} completed in their deadline, ${j.attemptsPerJob.toFixed(3)} attempts per job, ${pct(j.upstream429Share)} upstream 429s, ${j.lost} lost, ${j.duplicated} duplicated (${j.name})`).join('; ')}. ` +
    `The synchronous path succeeded for ${pct(sync.successRate)}.`;
  return { scenario: config, sync, jobs, timeline, verdict };
}

function pathFigures(s: JobsScenarioRun, limit: number): JobsPathFigures {
  const accepted = s.jobs.filter((j) => j.job || !j.enqueueError);
  const ended = s.jobs.flatMap((j) => (j.job ? [j.job] : []));
  const completed = ended.filter((j) => j.state === 'completed');
  const failed: Record<string, number> = {};
  for (const job of ended.filter((j) => j.state === 'failed')) {
    const kind = job.error?.kind ?? 'unknown';
    failed[kind] = (failed[kind] ?? 0) + 1;
  }
  const byId = new Map<string, number>();
  for (const request of s.upstream) {
    byId.set(request.clientRequestId, (byId.get(request.clientRequestId) ?? 0) + 1);
  }
  const upstream429 = rejectedByWindow(
    s.upstream.map((r) => r.atMs),
    60_000,
    limit,
  );
  const withinDeadline = completed.filter((j) => (j.endedAt ?? Infinity) <= j.deadlineAt).length;
  const lost =
    accepted.length - ended.filter((j) => j.state !== 'queued' && j.state !== 'running').length;
  const duplicated = s.jobs.filter((j) => j.completedEvents > 1).length;
  const attemptsPerJob = s.upstream.length / Math.max(completed.length, 1);
  const share = upstream429 / Math.max(s.upstream.length, 1);
  return {
    name: s.name,
    offered: s.jobs.length,
    accepted: accepted.length,
    completed: completed.length,
    completedWithinDeadline: withinDeadline,
    failed,
    lost,
    duplicated,
    rerun: [...byId.values()].filter((n) => n > 1).length,
    upstreamRequests: s.upstream.length,
    attemptsPerJob,
    upstream429,
    upstream429Share: share,
    delayedJobs: completed.filter((j) => j.delays > 0).length,
    queueWaitS: waits(completed.map((j) => (j.startedAt ?? j.enqueuedAt) - j.enqueuedAt)),
    resultS: waits(completed.map((j) => (j.endedAt ?? j.enqueuedAt) - j.enqueuedAt)),
    drainedAtS: s.drainedAtMs / 1_000,
    ...(s.kill
      ? { kill: { atS: s.kill.atMs / 1_000, restartedAtS: s.kill.restartedAtMs / 1_000 } }
      : {}),
    met:
      withinDeadline === accepted.length &&
      attemptsPerJob <= TARGETS.attemptsPerJob &&
      share <= TARGETS.upstream429Share &&
      lost === 0 &&
      duplicated === 0,
  };
}

function syncFigures(run: JobsBenchRun, limit: number): SyncFigures {
  const calls = run.sync.calls;
  const ok = calls.filter((c) => c.outcome === 'success');
  const failures: Record<string, number> = {};
  for (const call of calls.filter((c) => c.outcome !== 'success')) {
    failures[call.outcome] = (failures[call.outcome] ?? 0) + 1;
  }
  return {
    offered: calls.length,
    succeeded: ok.length,
    successRate: ok.length / Math.max(calls.length, 1),
    failures,
    latencyS: waits(ok.map((c) => c.latencyMs)),
    upstreamRequests: run.sync.upstream.length,
    upstream429: rejectedByWindow(run.sync.upstream, 60_000, limit),
  };
}

function waits(ms: number[]): WaitFigures {
  if (ms.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = new SortedSamples(ms.map((v) => v / 1_000));
  return { p50: sorted.at(0.5), p95: sorted.at(0.95), p99: sorted.at(0.99), max: sorted.at(1) };
}

/**
 * Requests the simulator refused: its sliding window (src/simulator/rate-limit.window.ts) replayed
 * over the arrivals it recorded, since its log keeps arrivals, not answers.
 */
function rejectedByWindow(arrivals: number[], windowMs: number, limit: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  const admitted: number[] = [];
  let head = 0;
  let rejected = 0;
  for (const at of sorted) {
    while (head < admitted.length && admitted[head]! <= at - windowMs) head++;
    if (admitted.length - head < limit) admitted.push(at);
    else rejected++;
  }
  return rejected;
}

function bucket(timesMs: number[], path: string): JobsReport['timeline'] {
  const counts = new Map<number, number>();
  for (const t of timesMs) {
    const second = Math.floor(t / 5_000) * 5;
    counts.set(second, (counts.get(second) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([second, completed]) => ({ second, path, completed }));
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.01 && ratio > 0 ? 2 : 1)} %`;
}
