import type { EnvReader } from './env.reader';

/** Durable jobs of the gateway (RABBITMQ_URL): `Prefer: respond-async` and `/v1/jobs`. */
export interface GatewayJobsConfig {
  /** RABBITMQ_URL. Never logged (it may hold a password). */
  rabbitmqUrl: string;
  /** LLM_JOBS_QUEUE. @default LlmJobsModule's 'llm.jobs' */
  queue?: string;
  /** LLM_JOBS_WORKER: run a worker in the gateway too. @default true */
  worker: boolean;
  /** LLM_JOBS_DEADLINE_MS: a job's deadline unless the request says otherwise. @default 1 hour */
  deadlineMs?: number;
  /** LLM_JOBS_CONCURRENCY: jobs the worker runs at once. @default the bulkhead's maxConcurrent */
  concurrency?: number;
  /** LLM_JOBS_HOLD_MS: longest wait a worker holds a job before delaying it. @default 60000 */
  holdMs?: number;
  /** LLM_JOBS_MAX_DELIVERIES: failed runs before the dead-letter queue. @default 5 */
  maxDeliveries?: number;
}

/**
 * RABBITMQ_URL turns jobs on; their states need REDIS_URL. Unset without RABBITMQ_URL (and then
 * the LLM_JOBS_* variables are reported as needing it).
 */
export function readJobsConfig(
  read: EnvReader,
  redisUrl: string | undefined,
): GatewayJobsConfig | undefined {
  const url = read.text('RABBITMQ_URL');
  const queue = read.text('LLM_JOBS_QUEUE');
  const worker = read.boolean('LLM_JOBS_WORKER');
  const numbers = {
    deadlineMs: read.wholeNumber('LLM_JOBS_DEADLINE_MS', { min: 1 }),
    concurrency: read.wholeNumber('LLM_JOBS_CONCURRENCY', { min: 1 }),
    holdMs: read.wholeNumber('LLM_JOBS_HOLD_MS', { min: 100 }),
    maxDeliveries: read.wholeNumber('LLM_JOBS_MAX_DELIVERIES', { min: 1 }),
  };
  if (url === undefined) {
    const set = Object.values(numbers).some((v) => v !== undefined);
    if (set || queue !== undefined || worker !== undefined) {
      read.report('LLM_JOBS_* variables need RABBITMQ_URL, the broker of the jobs');
    }
    return undefined;
  }
  if (!/^amqps?:\/\//.test(url)) {
    read.report('RABBITMQ_URL must be an amqp:// or amqps:// URL such as amqp://localhost:5672');
  }
  if (redisUrl === undefined) {
    read.report('RABBITMQ_URL needs REDIS_URL: job states live in Redis');
  }
  const defined = Object.fromEntries(Object.entries(numbers).filter(([, v]) => v !== undefined));
  return {
    rabbitmqUrl: url,
    ...(queue === undefined ? {} : { queue }),
    worker: worker ?? true,
    ...defined,
  };
}
