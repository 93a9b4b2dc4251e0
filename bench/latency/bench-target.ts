import { NestFactory } from '@nestjs/core';
import { LlmClient } from '../../src/llm/client/llm-client';
import { LlmRateLimiter, UnlimitedRateLimiter } from '../../src/llm/limits/llm-rate-limiter';
import { LlmModule } from '../../src/llm/llm.module';
import { type BenchModuleSetup, benchModuleOptions } from '../support/bench-module.options';
import { startSimulatorProcess, type SimulatorProcess } from '../support/simulator-process';

export { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';

/** A budget so large no call ever waits: what is measured is the limiter's own work. */
export const NEVER_WAITING_RPM = 1_000_000_000;

/** What the benchmark talks to: the zero-latency simulator and booted LlmModules in front of it. */
export interface BenchTarget {
  sim: SimulatorProcess;
  /** `LlmModule.forRoot` with its defaults: no rate limiter. */
  llm: LlmClient;
  /** With the in-memory rate limiter, or undefined when the module has none. */
  llmMemory?: LlmClient;
  /** With the Redis rate limiter, when a Redis URL was given and the module has a limiter. */
  llmRedis?: LlmClient;
  /** Closes the Nest contexts (their keep-alive agents, Redis connections), then the simulator. */
  close(): Promise<void>;
}

/**
 * Starts the simulator in a child process on a free loopback port and boots `LlmModule.forRoot`
 * against it the way an application would (Nest DI, the axios transport): with its defaults, and
 * with a never-waiting rate limiter in memory and in Redis.
 */
export async function startBenchTarget(redisUrl?: string): Promise<BenchTarget> {
  const sim = await startSimulatorProcess();
  const apps: Array<{ close(): Promise<void> }> = [];
  const boot = async (setup: Omit<BenchModuleSetup, 'baseUrl'>) => {
    const app = await NestFactory.createApplicationContext(
      LlmModule.forRoot(benchModuleOptions({ baseUrl: sim.baseUrl, ...setup })),
      { logger: false, abortOnError: false },
    );
    apps.push(app);
    const limited = !(app.get<LlmRateLimiter>(LlmRateLimiter) instanceof UnlimitedRateLimiter);
    return { llm: app.get(LlmClient), limited };
  };
  const close = async () => {
    for (const app of apps.reverse()) await app.close();
    await sim.close();
  };
  try {
    const plain = await boot({});
    const limits = { rpm: NEVER_WAITING_RPM };
    const memory = await boot({ limits });
    const redis = redisUrl && memory.limited ? await boot({ limits, redisUrl }) : undefined;
    return {
      sim,
      llm: plain.llm,
      llmMemory: memory.limited ? memory.llm : undefined,
      llmRedis: redis?.limited ? redis.llm : undefined,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
