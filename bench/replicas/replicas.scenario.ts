import { benchGatewayEnv } from '../support/bench-module.options';
import { ENFORCEMENT_MODES } from '../support/enforcement.modes';
import type { Progress } from '../report/progress';
import type { RedisServer } from '../support/redis-server';
import { startRedisServer } from '../support/redis-server.process';
import { poissonArrivals, seededRandom } from '../support/seeded-random';
import { SimulatorControl } from '../support/simulator.control';
import { type SimulatorProcess, startSimulatorProcess } from '../support/simulator-process';
import { limiterLines, scrape, sendChat } from './gateway.client';
import { type GatewayProcess, startGatewayProcess } from './gateway.process';
import { REPLICA_PHASES, type ReplicasConfig } from './replicas.config';

/** One request the benchmark sent to a gateway, and what the gateway answered. */
export interface GatewayRequest {
  /** Real ms from the start of the measured run. */
  atMs: number;
  gateway: number;
  /** `200`, or the status and the error's `code` (the LlmError kind): `503 bulkhead_full`. */
  status: string;
  latencyMs: number;
}

/** Everything the run observed. */
export interface ReplicasRun {
  /** Ends of the phases, real ms from the start: [redis up ends, redis down ends, run ends]. */
  phaseEndsMs: number[];
  requests: GatewayRequest[];
  /** Every chat request that reached the simulator: when (its clock) and what it answered. */
  upstream: Array<{ at: number; status: number | undefined }>;
  /** `Date.now()` when the measured run started. */
  startedAt: number;
  /** Each gateway's Prometheus text at the end. */
  metrics: string[];
  /** Each gateway's log lines about the limiter and Redis. */
  logs: string[][];
}

/**
 * Starts Redis, the simulator and the gateways, offers `offeredRatio` × the limit spread over the
 * replicas in turn, stops Redis at the end of the first phase and brings a fresh one back at the
 * end of the second. Stops everything it started, however it ends.
 */
export async function runReplicasScenario(
  config: ReplicasConfig,
  progress: Progress,
): Promise<ReplicasRun> {
  let redis: RedisServer | undefined;
  let sim: SimulatorProcess | undefined;
  const gateways: GatewayProcess[] = [];
  try {
    redis = await startRedisServer();
    sim = await startSimulatorProcess();
    const control = new SimulatorControl(sim.baseUrl);
    const simConfig = { ...ENFORCEMENT_MODES['interval-1s'].sim, rpm: config.rpm };
    // Only the limit and Redis: no replica count, as a new user would run it.
    const env = benchGatewayEnv({
      baseUrl: sim.baseUrl,
      limits: { rpm: config.rpm },
      redisUrl: redis.url,
    });
    const started = await Promise.allSettled(
      Array.from({ length: config.replicas }, () => startGatewayProcess(env)),
    );
    for (const s of started) if (s.status === 'fulfilled') gateways.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    // Warm-up: connections, JIT, and the replicas' heartbeats; then a fresh simulator count.
    for (let i = 0; i < 3; i++) for (const gateway of gateways) await sendChat(gateway.url);
    await sleep(2_000);
    await control.reset();
    await control.configure(simConfig);
    const run = await drive(config, gateways, redis, progress);
    const recorded = await control.requests();
    return {
      ...run,
      upstream: recorded.requests
        .map((r) => ({ at: r.at, status: r.status }))
        .sort((a, b) => a.at - b.at),
      metrics: await Promise.all(gateways.map((g) => scrape(g.url))),
      logs: gateways.map((g) => limiterLines(g.output())),
    };
  } finally {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await Promise.allSettled([sim?.close(), redis?.stop()]);
  }
}

async function drive(
  config: ReplicasConfig,
  gateways: readonly GatewayProcess[],
  redis: RedisServer,
  progress: Progress,
) {
  const phaseMs = config.phaseMs;
  const phaseEndsMs = REPLICA_PHASES.map((_, i) => (i + 1) * phaseMs);
  const totalMs = phaseEndsMs.at(-1)!;
  const perMs = (config.offeredRatio * config.rpm) / 60_000;
  const arrivals = poissonArrivals(seededRandom(config.seed), perMs, totalMs);
  const requests: GatewayRequest[] = [];
  const pending: Array<Promise<void>> = [];
  let stopped = false;
  const startedAt = Date.now();
  const at = (ms: number) => sleep(startedAt + ms - Date.now());
  const switches = (async () => {
    await at(phaseEndsMs[0]!);
    await redis.stop();
    await at(phaseEndsMs[1]!);
    await redis.restart();
  })();
  const ticker = setInterval(() => {
    const elapsed = Date.now() - startedAt;
    const phase = REPLICA_PHASES[Math.min(2, Math.floor(elapsed / phaseMs))];
    const ok = requests.filter((r) => r.status === '200').length;
    progress.update(
      `replicas: ${phase}, ${(elapsed / 1_000).toFixed(0)}/${(totalMs / 1_000).toFixed(0)} s, ` +
        `${ok}/${requests.length} answered 200`,
      pending.length,
      arrivals.length,
    );
  }, 250);
  try {
    for (let i = 0; i < arrivals.length; i++) {
      const atMs = arrivals[i]!;
      await at(atMs);
      const gateway = i % gateways.length;
      const sentAt = Date.now();
      pending.push(
        sendChat(gateways[gateway]!.url).then((status) => {
          // After the drain limit a call is counted unfinished; stopping the gateways ends it.
          if (!stopped) requests.push({ atMs, gateway, status, latencyMs: Date.now() - sentAt });
        }),
      );
    }
    await switches;
    // Calls still queued this long after the last arrival (the offered load is above the limit)
    // are counted as unfinished: the gateways are stopped, which ends them.
    await Promise.race([Promise.all(pending), sleep(DRAIN_LIMIT_MS)]);
    stopped = true;
    const answered = new Set(requests.map((r) => r.atMs));
    for (const [i, atMs] of arrivals.entries()) {
      if (!answered.has(atMs)) {
        requests.push({ atMs, gateway: i % gateways.length, status: 'unfinished', latencyMs: NaN });
      }
    }
  } finally {
    clearInterval(ticker);
    progress.finish();
  }
  return { startedAt, phaseEndsMs, requests: requests.sort((a, b) => a.atMs - b.atMs) };
}

const DRAIN_LIMIT_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
