import { LLM_JOBS_DEFAULTS, LlmJobsOptions, ResolvedLlmJobsOptions } from './llm-jobs.options';

/** Invalid {@link LlmJobsOptions}: thrown at startup, naming every field to fix. */
export class LlmJobsOptionsError extends Error {
  readonly code = 'LLM_JOBS_INVALID_OPTIONS';

  constructor(readonly problems: string[]) {
    super(`Invalid LlmJobsModule options: ${problems.join('; ')}.`);
    this.name = 'LlmJobsOptionsError';
  }
}

/**
 * Applies the defaults and checks every field; bad options fail at startup, not at the first job.
 *
 * @example
 * resolveLlmJobsOptions({ rabbitmqUrl: 'amqp://localhost', redis: { url: 'redis://localhost' } })
 */
export function resolveLlmJobsOptions(options: LlmJobsOptions): ResolvedLlmJobsOptions {
  const problems: string[] = [];
  const positive = (name: keyof LlmJobsOptions, min = 1): number => {
    const value = options[name] ?? LLM_JOBS_DEFAULTS[name as keyof typeof LLM_JOBS_DEFAULTS];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      problems.push(
        `${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`,
      );
      return min;
    }
    return value;
  };
  if (typeof options.rabbitmqUrl !== 'string' || !/^amqps?:\/\//.test(options.rabbitmqUrl)) {
    // The URL may hold a password: never quoted.
    problems.push('rabbitmqUrl must be an amqp:// or amqps:// URL such as amqp://localhost:5672');
  }
  const redis = options.redis as Partial<{ url: unknown; client: unknown }> | undefined;
  if (!redis || (typeof redis.url !== 'string' && typeof redis.client !== 'object')) {
    problems.push('redis must be { url: "redis://..." } or { client: <ioredis client> }');
  }
  const queue = options.queue ?? LLM_JOBS_DEFAULTS.queue;
  if (typeof queue !== 'string' || !/^[\w.:-]{1,200}$/.test(queue)) {
    problems.push('queue must be 1-200 letters, digits, or . _ : -');
  }
  const resolved: ResolvedLlmJobsOptions = {
    rabbitmqUrl: options.rabbitmqUrl,
    redis: options.redis,
    queue,
    defaultDeadlineMs: positive('defaultDeadlineMs'),
    maxDeadlineMs: positive('maxDeadlineMs'),
    stateTtlMs: positive('stateTtlMs'),
    maxDeliveries: positive('maxDeliveries'),
    holdMs: positive('holdMs', 100),
    failureDelayMs: positive('failureDelayMs'),
    worker: options.worker ?? LLM_JOBS_DEFAULTS.worker,
    ...(options.concurrency === undefined ? {} : { concurrency: positive('concurrency') }),
  };
  if (resolved.defaultDeadlineMs > resolved.maxDeadlineMs) {
    problems.push(
      `defaultDeadlineMs (${resolved.defaultDeadlineMs}) must not exceed maxDeadlineMs (${resolved.maxDeadlineMs})`,
    );
  }
  if (problems.length > 0) throw new LlmJobsOptionsError(problems);
  return resolved;
}
