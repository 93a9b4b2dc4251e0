import { type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connect } from 'amqplib';
import { LlmJobWorker } from '../../src/llm/jobs/llm-job.worker';
import { LlmJobs } from '../../src/llm/jobs/llm-jobs';
import { LlmJobsModule } from '../../src/llm/jobs/llm-jobs.module';
import type { LlmJobsOptions } from '../../src/llm/jobs/llm-jobs.options';
import { LlmJobsRuntime } from '../../src/llm/jobs/llm-jobs.runtime';
import type { LlmJob } from '../../src/llm/jobs/llm-job.types';
import { LlmModule } from '../../src/llm/llm.module';
import type { LlmModuleOptions, LlmUpstreamOptions } from '../../src/llm/llm-module.options';
import { FAST_POLICIES, TEST_API_KEY } from './llm-test-app';

/** Where a jobs app connects: the suite's broker, Redis and simulator, and its own queue name. */
export interface JobsAppTarget {
  rabbitmqUrl: string;
  redisUrl: string;
  simUrl: string;
  queue: string;
}

export interface JobsTestApp {
  app: INestApplicationContext;
  jobs: LlmJobs;
  worker: LlmJobWorker;
  runtime: LlmJobsRuntime;
  close(): Promise<void>;
}

let queues = 0;

/** A queue name of its own for each test, so tests sharing one broker never see each other's jobs. */
export function freshQueue(): string {
  return `test.jobs.${process.pid}.${++queues}`;
}

/**
 * Boots LlmModule and LlmJobsModule for real against the simulator, the broker and Redis. The
 * worker runs unless `jobs.worker` is false.
 */
export async function startJobsApp(
  target: JobsAppTarget,
  options: {
    jobs?: Partial<LlmJobsOptions>;
    upstream?: Partial<LlmUpstreamOptions>;
    module?: Partial<LlmModuleOptions>;
  } = {},
): Promise<JobsTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      LlmModule.forRoot({
        upstreams: [
          {
            name: 'sim',
            baseUrl: target.simUrl,
            apiKey: TEST_API_KEY,
            defaultModel: 'gpt-4o-mini',
            ...FAST_POLICIES,
            ...options.upstream,
          },
        ],
        ...options.module,
      }),
      LlmJobsModule.forRoot({
        rabbitmqUrl: target.rabbitmqUrl,
        redis: { url: target.redisUrl },
        queue: target.queue,
        failureDelayMs: 250,
        ...options.jobs,
      }),
    ],
  }).compile();
  const app = await moduleRef.init();
  return {
    app,
    jobs: app.get(LlmJobs),
    worker: app.get(LlmJobWorker),
    runtime: app.get(LlmJobsRuntime),
    close: () => app.close(),
  };
}

/** Waits for every job to end (by pub/sub, not polling) and returns them. */
export function settled(jobs: LlmJobs, ids: string[], timeoutMs = 20_000): Promise<LlmJob[]> {
  return Promise.all(ids.map((id) => jobs.wait(id, { timeoutMs })));
}

/** The messages of a queue, read without consuming them (fetched, then requeued). */
export async function peekQueue(
  rabbitmqUrl: string,
  queue: string,
): Promise<{ body: unknown; headers: Record<string, unknown> }[]> {
  const connection = await connect(rabbitmqUrl);
  try {
    const channel = await connection.createChannel();
    const found: { body: unknown; headers: Record<string, unknown> }[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      found.push({
        body: JSON.parse(message.content.toString('utf8')) as unknown,
        headers: { ...message.properties.headers },
      });
    }
    await channel.close(); // unacked messages go back to the queue
    return found;
  } finally {
    await connection.close();
  }
}
