import { Module } from '@nestjs/common';
import { LlmJobWorker } from './llm-job.worker';
import { LlmJobs } from './llm-jobs';
import { LlmJobsMetrics } from './llm-jobs.metrics';
import {
  LLM_JOBS_MODULE_OPTIONS,
  LLM_JOBS_RESOLVED_OPTIONS,
  LlmJobsConfigurableModule,
} from './llm-jobs.module-definition';
import type { LlmJobsOptions } from './llm-jobs.options';
import { resolveLlmJobsOptions } from './llm-jobs-options.resolver';
import { LlmJobsRuntime } from './llm-jobs.runtime';

/**
 * Durable LLM jobs on RabbitMQ with their state in Redis: inject {@link LlmJobs} to enqueue,
 * read, cancel and await jobs; a {@link LlmJobWorker} runs them (in this process unless
 * `worker: false`). Needs `LlmModule` (global by default): jobs run through its `LlmClient`.
 *
 * @example
 * imports: [
 *   LlmModule.forRoot({ upstreams: [...], redis: { url: process.env.REDIS_URL } }),
 *   LlmJobsModule.forRoot({ rabbitmqUrl: process.env.RABBITMQ_URL!, redis: { url: process.env.REDIS_URL! } }),
 * ]
 */
@Module({
  providers: [
    {
      provide: LLM_JOBS_RESOLVED_OPTIONS,
      useFactory: (options: LlmJobsOptions) => resolveLlmJobsOptions(options),
      inject: [LLM_JOBS_MODULE_OPTIONS],
    },
    LlmJobsMetrics,
    LlmJobsRuntime,
    LlmJobs,
    LlmJobWorker,
  ],
  exports: [LlmJobs, LlmJobWorker, LlmJobsRuntime],
})
export class LlmJobsModule extends LlmJobsConfigurableModule {}
