import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  isLlmError,
  LlmClient,
  LlmJobs,
  LlmJobsModule,
  LlmModule,
  type LlmJob,
} from '../../src/llm/index';
import { LlmJobsRuntime } from '../../src/llm/jobs/llm-jobs.runtime';
import { TERMINAL_JOB_STATES } from '../../src/llm/jobs/llm-job.types';
import { RabbitMqServer } from '../support/rabbitmq-server';
import type { RedisServer } from '../support/redis-server';
import { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';
import { trackChild } from '../support/child-processes';
import type { Progress } from '../report/progress';
import { startRedisServer } from '../support/redis-server.process';
import { poissonArrivals, seededRandom } from '../support/seeded-random';
import { SimulatorControl } from '../support/simulator.control';
import { startSimulatorProcess } from '../support/simulator-process';
import type { JobsBenchConfig } from './jobs.config';
import { startWorkerProcess, type WorkerProcess } from './worker.process';

/** How often the drain reads the jobs it has not seen ending (see trackJobs' readUnended), ms. */
const SAFETY_READ_MS = 10_000;

/** One synchronous call: when it was offered (ms from the start), how it ended, how long it took. */
export interface SyncCall {
  atMs: number;
  outcome: string;
  latencyMs: number;
}

/** One job: when it was offered, and its state at the end (undefined: never accepted). */
export interface JobRun {
  atMs: number;
  job?: LlmJob;
  enqueueError?: string;
  /** Times the store announced it completed (more than one would be a duplicate result). */
  completedEvents: number;
}

/** What one jobs scenario observed. */
export interface JobsScenarioRun {
  name: string;
  jobs: JobRun[];
  /** Arrival times (ms from the start) of every request at its simulator, by client request id. */
  upstream: { atMs: number; clientRequestId: string }[];
  /** When its worker was killed and when a new one started, ms from the start. */
  kill?: { atMs: number; restartedAtMs: number };
  drainedAtMs: number;
}

export interface JobsBenchRun {
  startedAt: number;
  sync: { calls: SyncCall[]; upstream: number[] };
  scenarios: JobsScenarioRun[];
}

const MESSAGES = [{ role: 'user', content: 'Write a product description for a blue kettle.' }];

/**
 * The seed's case side by side in one run: the same offered load (`offeredRatio` × the provider's
 * limit, Poisson arrivals, `offerSeconds`) through the synchronous path, through jobs with
 * `workers` workers, and through jobs while one worker is killed (SIGKILL) and replaced. Each path
 * has a simulator of its own with the same limit, so they do not take each other's budget. Every
 * process it starts is stopped however it ends.
 */
export async function runJobsScenario(
  config: JobsBenchConfig,
  progress: Progress,
): Promise<JobsBenchRun> {
  const started: { close(): Promise<void> }[] = [];
  const workers: WorkerProcess[] = [];
  try {
    const [broker, redis, ...sims] = await Promise.all([
      RabbitMqServer.start({ onSpawn: trackChild }),
      startRedisServer(),
      startSimulatorProcess(),
      startSimulatorProcess(),
      startSimulatorProcess(),
    ]);
    started.push(broker, redis, ...sims);
    for (const sim of sims) {
      await new SimulatorControl(sim.baseUrl).configure({
        rpm: config.rpm,
        windowMs: 60_000,
        latencyMs: config.latencyMs,
      });
    }
    const [syncSim, normalSim, killSim] = sims;
    const paths = [
      { name: 'jobs', sim: normalSim, kill: false },
      { name: 'jobs, one worker killed', sim: killSim, kill: true },
    ].map((p, i) => ({ ...p, upstream: `jobs-${i + 1}`, queue: `bench.jobs.${i + 1}` }));
    const producers = await Promise.all(
      paths.map((p) => startProducer(p.sim.baseUrl, p.upstream, p.queue, broker, redis)),
    );
    started.push(...producers.map((app) => ({ close: () => app.close() })));
    const workerEnv = (p: (typeof paths)[number]) => ({
      LLM_BASE_URL: p.sim.baseUrl,
      LLM_API_KEY: BENCH_API_KEY,
      LLM_MODEL: BENCH_MODEL,
      LLM_UPSTREAM_NAME: p.upstream,
      LLM_RPM: String(config.rpm),
      REDIS_URL: redis.url,
      RABBITMQ_URL: broker.url,
      LLM_JOBS_QUEUE: p.queue,
    });
    const pathWorkers = await Promise.all(
      paths.map((p) =>
        Promise.all(Array.from({ length: config.workers }, () => startWorkerProcess(workerEnv(p)))),
      ),
    );
    workers.push(...pathWorkers.flat());
    const syncApp = await NestFactory.createApplicationContext(
      syncModule(syncSim.baseUrl, config.rpm),
      { logger: false },
    );
    started.push({ close: () => syncApp.close() });

    const offerMs = config.offerSeconds * 1_000;
    const perMs = (config.offeredRatio * config.rpm) / 60_000;
    const startedAt = Date.now();
    const elapsed = () => Date.now() - startedAt;
    const syncCalls: SyncCall[] = [];
    const llm = syncApp.get(LlmClient);
    const offered: Promise<unknown>[] = [];
    offered.push(
      offerAt(poissonArrivals(seededRandom(1), perMs, offerMs), startedAt, (atMs) => {
        const t0 = Date.now();
        return llm.chat({ messages: MESSAGES }).then(
          () => void syncCalls.push({ atMs, outcome: 'success', latencyMs: Date.now() - t0 }),
          (error: unknown) =>
            void syncCalls.push({
              atMs,
              outcome: isLlmError(error) ? error.kind : 'error',
              latencyMs: Date.now() - t0,
            }),
        );
      }),
    );
    const tracked = paths.map((p, i) => trackJobs(producers[i]!, p.name));
    for (const [i, track] of tracked.entries()) {
      offered.push(
        offerAt(poissonArrivals(seededRandom(2 + i), perMs, offerMs), startedAt, (atMs) =>
          track.enqueue(atMs),
        ),
      );
    }
    let kill: JobsScenarioRun['kill'];
    const killer = (async () => {
      await sleep(config.killAtS * 1_000 - elapsed());
      const index = paths.findIndex((p) => p.kill);
      const doomed = pathWorkers[index]![0]!;
      doomed.kill();
      const killedAt = elapsed();
      await sleep(config.downS * 1_000);
      workers.push(await startWorkerProcess(workerEnv(paths[index]!)));
      kill = { atMs: killedAt, restartedAtMs: elapsed() };
    })();
    const ticker = setInterval(() => {
      const done = tracked.reduce((n, t) => n + t.ended(), 0);
      const total = tracked.reduce((n, t) => n + t.runs.length, 0);
      progress.update(
        `Jobs bench, ${(elapsed() / 1_000).toFixed(0)} s: jobs ended`,
        done,
        Math.max(total, 1),
      );
    }, 1_000);
    try {
      await Promise.all([...offered, killer]);
      const drainUntil = Date.now() + config.drainLimitS * 1_000;
      const drained: number[] = [];
      for (const track of tracked) {
        let readAt = Date.now();
        while (track.ended() < track.accepted() && Date.now() < drainUntil) {
          await sleep(500);
          // The store's change notices come by Redis pub/sub, which keeps none it could not
          // deliver: the jobs not yet seen ending are read now and then, as LlmJobs.wait does.
          if (Date.now() - readAt >= SAFETY_READ_MS) {
            await track.readUnended();
            readAt = Date.now();
          }
        }
        drained.push(elapsed());
      }
      progress.finish();
      const scenarios: JobsScenarioRun[] = [];
      for (const [i, track] of tracked.entries()) {
        const requests = (await new SimulatorControl(paths[i]!.sim.baseUrl).requests()).requests;
        scenarios.push({
          name: track.name,
          jobs: await track.read(),
          upstream: requests.map((r) => ({
            atMs: r.at - startedAt,
            clientRequestId: r.headers['x-client-request-id'] ?? '',
          })),
          ...(paths[i]!.kill && kill ? { kill } : {}),
          drainedAtMs: drained[i]!,
        });
      }
      const syncRequests = (await new SimulatorControl(syncSim.baseUrl).requests()).requests;
      return {
        startedAt,
        sync: { calls: syncCalls, upstream: syncRequests.map((r) => r.at - startedAt) },
        scenarios,
      };
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    for (const item of started.reverse()) await item.close().catch(() => undefined);
  }
}

/** Enqueues through one producer and follows its jobs by the store's pub/sub. */
function trackJobs(app: INestApplicationContext, name: string) {
  const jobs = app.get(LlmJobs);
  const runs: (JobRun & { id?: string })[] = [];
  const completed = new Map<string, number>();
  const ended = new Set<string>();
  app.get(LlmJobsRuntime).store.onChange((id, state) => {
    if (state === 'completed') completed.set(id, (completed.get(id) ?? 0) + 1);
    if (state === 'completed' || state === 'failed' || state === 'cancelled') ended.add(id);
  });
  return {
    name,
    runs,
    accepted: () => runs.filter((r) => r.id).length,
    ended: () => ended.size,
    /** Reads the jobs not yet seen ending; those that ended count as ended. */
    readUnended: async (): Promise<void> => {
      for (const run of runs) {
        if (!run.id || ended.has(run.id)) continue;
        const job = await jobs.get(run.id).catch(() => undefined);
        if (job && TERMINAL_JOB_STATES.has(job.state)) ended.add(run.id);
      }
    },
    enqueue: async (atMs: number) => {
      const run: JobRun & { id?: string } = { atMs, completedEvents: 0 };
      runs.push(run);
      try {
        run.id = (await jobs.enqueue({ messages: MESSAGES }, { featureName: 'writer' })).id;
      } catch (error) {
        run.enqueueError = error instanceof Error ? error.message : String(error);
      }
    },
    read: async (): Promise<JobRun[]> => {
      const out: JobRun[] = [];
      for (const run of runs) {
        const job = run.id ? await jobs.get(run.id).catch(() => undefined) : undefined;
        out.push({
          atMs: run.atMs,
          ...(job ? { job } : {}),
          ...(run.enqueueError ? { enqueueError: run.enqueueError } : {}),
          completedEvents: run.id ? (completed.get(run.id) ?? 0) : 0,
        });
      }
      return out;
    },
  };
}

async function startProducer(
  baseUrl: string,
  upstream: string,
  queue: string,
  broker: RabbitMqServer,
  redis: RedisServer,
): Promise<INestApplicationContext> {
  @Module({})
  class ProducerModule {}
  const module: DynamicModule = {
    module: ProducerModule,
    imports: [
      LlmModule.forRoot({
        upstreams: [{ name: upstream, baseUrl, apiKey: BENCH_API_KEY, defaultModel: BENCH_MODEL }],
      }),
      LlmJobsModule.forRoot({
        rabbitmqUrl: broker.url,
        redis: { url: redis.url },
        queue,
        worker: false,
      }),
    ],
  };
  const app = await NestFactory.createApplicationContext(module, { logger: false });
  await app.init();
  return app;
}

/** The synchronous path: LlmClient with the module's defaults and the provider's limit. */
function syncModule(baseUrl: string, rpm: number): DynamicModule {
  @Module({})
  class SyncModule {}
  return {
    module: SyncModule,
    imports: [
      LlmModule.forRoot({
        upstreams: [
          {
            name: 'sync',
            baseUrl,
            apiKey: BENCH_API_KEY,
            defaultModel: BENCH_MODEL,
            limits: { rpm },
          },
        ],
      }),
    ],
  };
}

/** Calls `send` at each arrival time (ms from `startedAt`); resolves when every call settled. */
async function offerAt(
  arrivals: number[],
  startedAt: number,
  send: (atMs: number) => Promise<void>,
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const at of arrivals) {
    const wait = at - (Date.now() - startedAt);
    if (wait > 0) await sleep(wait);
    pending.push(send(Date.now() - startedAt));
  }
  await Promise.all(pending);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(ms, 0)));
}
