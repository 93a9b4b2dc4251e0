import { NestFactory } from '@nestjs/core';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import { startSimulatorProcess, SimulatorProcess } from './simulator-process';

/** The API key both the module and the direct calls send; the simulator accepts any. */
export const BENCH_API_KEY = 'sk-bench';
/** The model both paths ask for. */
export const BENCH_MODEL = 'gpt-4o-mini';

/** What the benchmark talks to: the zero-latency simulator and a booted LlmModule in front of it. */
export interface BenchTarget {
  sim: SimulatorProcess;
  llm: LlmClient;
  /** Closes the Nest context (its keep-alive agents) and then the simulator. */
  close(): Promise<void>;
}

/**
 * Starts the simulator in a child process on a free loopback port and boots `LlmModule.forRoot`
 * with its defaults against it, the way an application would (Nest DI, the axios transport).
 */
export async function startBenchTarget(): Promise<BenchTarget> {
  const sim = await startSimulatorProcess();
  try {
    const app = await NestFactory.createApplicationContext(
      LlmModule.forRoot({
        upstreams: [
          { name: 'sim', baseUrl: sim.baseUrl, apiKey: BENCH_API_KEY, defaultModel: BENCH_MODEL },
        ],
      }),
      { logger: false, abortOnError: false },
    );
    return {
      sim,
      llm: app.get(LlmClient),
      close: async () => {
        await app.close();
        await sim.close();
      },
    };
  } catch (error) {
    await sim.close();
    throw error;
  }
}
