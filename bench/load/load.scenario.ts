import { performance } from 'node:perf_hooks';
import type { EnforcementMode } from '../support/enforcement.modes';
import type { Progress } from '../report/progress';
import { SimulatorControl } from '../support/simulator.control';
import { type SimulatorProcess, startSimulatorProcess } from '../support/simulator-process';
import type { LoadConfig } from './load.config';
import type { Arrival } from './load.schedule';
import type { LoadStrategy, LoadStrategyId, RequestOutcome } from './load-strategy';

/** Builds a strategy against the simulator at `baseUrl`. */
export interface StrategyFactory {
  id: LoadStrategyId;
  create(baseUrl: string): Promise<LoadStrategy>;
}

/** One request's fate: when it was offered (ms from its strategy's start) and how it ended. */
export interface RequestResult extends RequestOutcome {
  atMs: number;
  latencyMs: number;
}

/** Everything measured for one strategy. */
export interface StrategyRun {
  id: LoadStrategyId;
  label: string;
  description: string;
  results: RequestResult[];
  /** Chat requests the simulator received (`GET /_sim/requests`): every attempt. */
  upstreamRequests: number;
  /** What the simulator answered them, by status: the upstream's own count. */
  upstreamAnswers: Record<string, number>;
  /** The answers the client saw, by status or error kind. */
  clientAnswers: Record<string, number>;
}

// Requests still running this long after the last arrival are counted as unfinished failures.
const DRAIN_LIMIT_MS = 60_000;

/**
 * Runs every strategy at once against one enforcement mode, each against its own simulator
 * process with the same limit, the same arrivals and the same outage at the same point of its
 * schedule. Schedules are staggered so the strategies' bursts do not land in this process at
 * the same moment.
 */
export async function runLoadScenario(
  config: LoadConfig,
  mode: EnforcementMode,
  arrivals: readonly Arrival[],
  factories: readonly StrategyFactory[],
  progress: Progress,
): Promise<StrategyRun[]> {
  const sims: SimulatorProcess[] = [];
  const strategies: LoadStrategy[] = [];
  const simConfig = { ...mode.sim, rpm: config.rpm };
  try {
    for (const factory of factories) {
      const sim = await startSimulatorProcess();
      sims.push(sim);
      strategies.push(await factory.create(sim.baseUrl));
    }
    const controls = sims.map((sim) => new SimulatorControl(sim.baseUrl));
    await Promise.all(strategies.map((s, i) => warmUp(s, controls[i]!, simConfig)));
    const staggerMs = config.burstEveryMs / strategies.length;
    const startAt = performance.now() + 200;
    const live = strategies.map(() => ({ done: 0, failed: 0 }));
    const label = `${mode.id}`;
    const ticker = startTicker(progress, label, live, strategies, arrivals.length, startAt, config);
    try {
      const runs = strategies.map((strategy, i) =>
        drive(strategy, controls[i]!, arrivals, config, startAt + i * staggerMs, live[i]!),
      );
      const results = await Promise.all(runs);
      return await Promise.all(
        strategies.map(async (strategy, i) => {
          const recorded = await controls[i]!.requests();
          const upstreamAnswers: Record<string, number> = {};
          for (const r of recorded.requests) {
            const key = String(r.status ?? 'none');
            upstreamAnswers[key] = (upstreamAnswers[key] ?? 0) + 1;
          }
          return {
            id: strategy.id,
            label: strategy.label,
            description: strategy.description,
            results: results[i]!,
            upstreamRequests: recorded.count,
            upstreamAnswers,
            clientAnswers: strategy.tally.toJSON(),
          };
        }),
      );
    } finally {
      clearInterval(ticker);
      progress.finish();
    }
  } finally {
    await Promise.allSettled(strategies.map((s) => s.close()));
    await Promise.allSettled(sims.map((sim) => sim.close()));
  }
}

/** Opens connections and JIT-compiles the paths, then starts the simulator afresh. */
async function warmUp(strategy: LoadStrategy, control: SimulatorControl, sim: object) {
  for (let i = 0; i < 5; i++) await strategy.send();
  await control.reset();
  await control.configure(sim);
  // The warm-up's answers are not part of the run.
  strategy.tally.reset();
}

/** Fires the arrivals on time (from `startAt`, a `performance.now()` value) and the outage. */
async function drive(
  strategy: LoadStrategy,
  control: SimulatorControl,
  arrivals: readonly Arrival[],
  config: LoadConfig,
  startAt: number,
  live: { done: number; failed: number },
): Promise<RequestResult[]> {
  const results: RequestResult[] = new Array<RequestResult>(arrivals.length);
  const pending: Array<Promise<void>> = [];
  const { outage } = config;
  const outageDone =
    outage.durationMs > 0
      ? sleepUntil(startAt + outage.atMs).then(() =>
          control.outage({ status: outage.status, durationMs: outage.durationMs }),
        )
      : Promise.resolve();
  for (let i = 0; i < arrivals.length; i++) {
    const arrival = arrivals[i]!;
    await sleepUntil(startAt + arrival.atMs);
    const sentAt = performance.now();
    pending.push(
      strategy.send().then((outcome) => {
        results[i] = { ...outcome, atMs: arrival.atMs, latencyMs: performance.now() - sentAt };
        live.done++;
        if (!outcome.ok) live.failed++;
      }),
    );
  }
  await outageDone;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_LIMIT_MS)));
  await Promise.race([Promise.all(pending), limit]);
  clearTimeout(timer);
  return arrivals.map(
    (arrival, i) =>
      results[i] ?? { ok: false, failure: 'unfinished', atMs: arrival.atMs, latencyMs: NaN },
  );
}

function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function startTicker(
  progress: Progress,
  label: string,
  live: ReadonlyArray<{ done: number; failed: number }>,
  strategies: readonly LoadStrategy[],
  perStrategy: number,
  startAt: number,
  config: LoadConfig,
): NodeJS.Timeout {
  const total = perStrategy * strategies.length;
  const totalS = Math.ceil((config.durationMs + config.burstEveryMs) / 1_000);
  const tick = (): void => {
    const done = live.reduce((sum, l) => sum + l.done, 0);
    const elapsedS = Math.max(0, (performance.now() - startAt) / 1_000).toFixed(0);
    const rates = strategies.map((s, i) => `${s.id} ${successText(live[i]!)}`).join(', ');
    progress.update(`${label} ${elapsedS}/~${totalS} s [${rates}]`, done, total);
  };
  return setInterval(tick, 250);
}

function successText({ done, failed }: { done: number; failed: number }): string {
  return done === 0 ? '-' : `${(((done - failed) / done) * 100).toFixed(1)} %`;
}
