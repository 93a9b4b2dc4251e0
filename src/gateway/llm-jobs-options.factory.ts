import type { LlmJobsOptions } from '../llm/index';
import type { GatewayConfig } from './gateway.config';

/**
 * The LlmJobsModule options of the gateway (and of `npm run worker`): the broker from
 * RABBITMQ_URL, states in REDIS_URL; unset settings keep the module's defaults.
 */
export function toLlmJobsOptions(config: GatewayConfig, worker?: boolean): LlmJobsOptions {
  const jobs = config.jobs;
  if (!jobs || !config.redisUrl) {
    throw new Error('Jobs need RABBITMQ_URL and REDIS_URL: set both to run jobs or a worker.');
  }
  return {
    rabbitmqUrl: jobs.rabbitmqUrl,
    redis: { url: config.redisUrl },
    worker: worker ?? jobs.worker,
    ...(jobs.queue === undefined ? {} : { queue: jobs.queue }),
    ...(jobs.deadlineMs === undefined ? {} : { defaultDeadlineMs: jobs.deadlineMs }),
    ...(jobs.concurrency === undefined ? {} : { concurrency: jobs.concurrency }),
    ...(jobs.holdMs === undefined ? {} : { holdMs: jobs.holdMs }),
    ...(jobs.maxDeliveries === undefined ? {} : { maxDeliveries: jobs.maxDeliveries }),
  };
}
