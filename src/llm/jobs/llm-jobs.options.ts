import type { Redis } from 'ioredis';

/** Options of {@link LlmJobsModule}: durable LLM jobs in RabbitMQ, their state in Redis. */
export interface LlmJobsOptions {
  /** The broker, e.g. `amqp://user:pass@rabbitmq:5672`. Required. Never logged (it may hold a password). */
  rabbitmqUrl: string;
  /** Job states: a Redis URL, or an ioredis client the application owns (it stays open). Required. */
  redis: { url: string } | { client: Redis };
  /** Name of the durable queue; the delay and dead-letter queues are named after it. @default 'llm.jobs' */
  queue?: string;
  /** A job's deadline when `enqueue` gives none, ms. @default 3600000 (1 hour) */
  defaultDeadlineMs?: number;
  /** The longest deadline a job may ask for, ms. @default 86400000 (24 hours) */
  maxDeadlineMs?: number;
  /** How long a job's state stays readable after its deadline, ms. @default 86400000 (24 hours) */
  stateTtlMs?: number;
  /** Runs that failed (or died with their worker) before a job goes to the dead-letter queue. @default 5 */
  maxDeliveries?: number;
  /**
   * The longest a worker holds one message for one run, ms: a rate-limit or circuit wait longer
   * than this puts the job back in the queue for that long instead. @default 60000
   */
  holdMs?: number;
  /** First wait before a failed run is tried again; doubles per failure, up to 60 s. @default 1000 */
  failureDelayMs?: number;
  /** Run a worker in this process. @default true */
  worker?: boolean;
  /**
   * Jobs a worker runs at once (the channel's prefetch). Never more than the default upstream's
   * `bulkhead.maxConcurrent`, so a worker never takes jobs it could only reject.
   * @default bulkhead.maxConcurrent of the default upstream
   */
  concurrency?: number;
}

/** {@link LlmJobsOptions} with every default applied. */
export interface ResolvedLlmJobsOptions {
  rabbitmqUrl: string;
  redis: { url: string } | { client: Redis };
  queue: string;
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  stateTtlMs: number;
  maxDeliveries: number;
  holdMs: number;
  failureDelayMs: number;
  worker: boolean;
  concurrency?: number;
}
