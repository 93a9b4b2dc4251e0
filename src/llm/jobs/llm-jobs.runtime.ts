import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { JobBroker } from './job.broker';
import { JobQueueTopology } from './job-queue.topology';
import { JobStateStore } from './job-state.store';
import { LLM_JOBS_RESOLVED_OPTIONS } from './llm-jobs.module-definition';
import { LlmJobsMetrics } from './llm-jobs.metrics';
import type { ResolvedLlmJobsOptions } from './llm-jobs.options';

/** How often the queue gauges are read from the broker and the state store. */
const GAUGE_REFRESH_MS = 5_000;

/**
 * The connections jobs share in one process: RabbitMQ (enqueue, delays, dead letters, and the
 * worker's consumer) and Redis (states). Connected when the module starts, closed when it stops.
 */
@Injectable()
export class LlmJobsRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly broker: JobBroker;
  readonly store: JobStateStore;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(LLM_JOBS_RESOLVED_OPTIONS) readonly options: ResolvedLlmJobsOptions,
    readonly metrics: LlmJobsMetrics,
  ) {
    this.broker = new JobBroker(options.rabbitmqUrl, new JobQueueTopology(options.queue));
    // 1 while an enqueue can be confirmed: what `Prefer: respond-async` needs (else 503).
    metrics.watchBroker(() => this.broker.ready);
    this.store = new JobStateStore(options.redis, options.queue, options.stateTtlMs, (outcome) =>
      metrics.stateWrite(outcome),
    );
  }

  async onModuleInit(): Promise<void> {
    await this.store.connect();
    await this.broker.connect();
    this.timer = setInterval(() => void this.refreshGauges(), GAUGE_REFRESH_MS).unref();
    await this.refreshGauges();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.broker.close();
    this.store.close();
  }

  /** Reads queue depth and the oldest queued job now (the gauges refresh on their own too). */
  async refreshGauges(): Promise<void> {
    const depth = await this.broker.depth().catch(() => undefined);
    const oldest = await this.store.oldestQueuedAt().catch(() => null);
    this.metrics.update({
      depth,
      // null: Redis did not answer, so the age is unknown (no sample rather than a wrong 0).
      oldestAgeS:
        oldest === null ? undefined : oldest === undefined ? 0 : (Date.now() - oldest) / 1000,
    });
  }
}
