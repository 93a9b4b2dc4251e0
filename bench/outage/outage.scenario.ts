import type { LoadStrategy } from '../load/load-strategy';
import type { Progress } from '../report/progress';
import { poissonArrivals, seededRandom } from '../support/seeded-random';
import { SimulatorControl } from '../support/simulator.control';
import { type SimulatorProcess, startSimulatorProcess } from '../support/simulator-process';
import type { OutageConfig } from './outage.config';

/** One call: when it was sent and ended (`Date.now()`, the simulator's clock) and how. */
export interface OutageCall {
  sentAt: number;
  endedAt: number;
  ok: boolean;
  failure?: string;
}

/** Everything one strategy's run observed. */
export interface OutageRun {
  id: string;
  label: string;
  calls: OutageCall[];
  /** Calls offered; those missing from `calls` had not ended when the run stopped waiting. */
  offered: number;
  /** Every request the simulator received: when, and what it answered. */
  upstream: Array<{ at: number; status: number | undefined }>;
  startedAt: number;
  outageFrom: number;
  outageTo: number;
}

const DRAIN_LIMIT_MS = 130_000;

/**
 * Runs each strategy against its own simulator at once: the same steady arrivals, the same
 * minute of 503s at the same point. Uses `Date.now()` throughout, the clock the simulator
 * records its requests with.
 */
export async function runOutageScenario(
  config: OutageConfig,
  factories: ReadonlyArray<(baseUrl: string) => Promise<LoadStrategy>>,
  progress: Progress,
): Promise<OutageRun[]> {
  const sims: SimulatorProcess[] = [];
  const strategies: LoadStrategy[] = [];
  try {
    for (const create of factories) {
      const sim = await startSimulatorProcess();
      sims.push(sim);
      strategies.push(await create(sim.baseUrl));
    }
    const controls = sims.map((sim) => new SimulatorControl(sim.baseUrl));
    for (const [i, strategy] of strategies.entries()) {
      for (let n = 0; n < 5; n++) await strategy.send();
      await controls[i]!.reset();
      await controls[i]!.configure({ ...config.mode.sim, rpm: config.rpm });
    }
    const totalMs = config.leadMs + config.outage.durationMs + config.afterMs;
    const arrivals = poissonArrivals(seededRandom(config.seed), config.perSecond / 1_000, totalMs);
    const startedAt = Date.now() + 200;
    const outageFrom = startedAt + config.leadMs;
    const done = { n: 0 };
    const ticker = setInterval(() => {
      const elapsed = Math.max(0, (Date.now() - startedAt) / 1_000);
      progress.update(
        `long outage ${elapsed.toFixed(0)}/${(totalMs / 1_000).toFixed(0)} s`,
        done.n,
        arrivals.length * strategies.length,
      );
    }, 250);
    try {
      const runs = strategies.map(async (strategy, i) => {
        const outage = sleepUntil(outageFrom).then(() => controls[i]!.outage(config.outage));
        const calls = await drive(strategy, arrivals, startedAt, done);
        await outage;
        const recorded = await controls[i]!.requests();
        return {
          id: strategy.id,
          label: strategy.label,
          calls,
          offered: arrivals.length,
          upstream: recorded.requests.map((r) => ({ at: r.at, status: r.status })),
          startedAt,
          outageFrom,
          outageTo: outageFrom + config.outage.durationMs,
        };
      });
      return await Promise.all(runs);
    } finally {
      clearInterval(ticker);
      progress.finish();
    }
  } finally {
    await Promise.allSettled(strategies.map((s) => s.close()));
    await Promise.allSettled(sims.map((sim) => sim.close()));
  }
}

async function drive(
  strategy: LoadStrategy,
  arrivals: readonly number[],
  startedAt: number,
  done: { n: number },
): Promise<OutageCall[]> {
  const calls: OutageCall[] = [];
  const pending: Array<Promise<void>> = [];
  for (const atMs of arrivals) {
    await sleepUntil(startedAt + atMs);
    const sentAt = Date.now();
    pending.push(
      strategy.send().then((outcome) => {
        calls.push({ sentAt, endedAt: Date.now(), ...outcome });
        done.n++;
      }),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_LIMIT_MS)));
  await Promise.race([Promise.all(pending), limit]);
  clearTimeout(timer);
  return calls.sort((a, b) => a.sentAt - b.sentAt);
}

function sleepUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
