import { LLM_DEFAULTS } from '../options/llm.defaults';
import { listProblems } from '../options/llm-options.error';
import { type NumberRule, OptionChecks } from '../options/option-checks';
import type { LlmJobsOptions, ResolvedLlmJobsOptions } from './llm-jobs.options';

/** Invalid {@link LlmJobsOptions}: thrown at startup, naming every field to fix. */
export class LlmJobsOptionsError extends Error {
  readonly code = 'LLM_JOBS_INVALID_OPTIONS';

  constructor(readonly problems: readonly string[]) {
    super(listProblems('LlmJobsModule', problems));
    this.name = 'LlmJobsOptionsError';
  }
}

const COUNTS = {
  defaultDeadlineMs: { min: 1, whole: true },
  maxDeadlineMs: { min: 1, whole: true },
  stateTtlMs: { min: 1, whole: true },
  maxDeliveries: { min: 1, whole: true },
  holdMs: { min: 100, whole: true },
  failureDelayMs: { min: 1, whole: true },
} as const satisfies Record<string, NumberRule>;
const KEYS = ['rabbitmqUrl', 'redis', 'queue', 'worker', 'concurrency', ...Object.keys(COUNTS)];

/**
 * Applies the defaults and checks every field with the same checks as LlmModule's options
 * (`undefined` = default, numeric strings accepted, unknown keys get a "did you mean"); bad
 * options fail at startup, not at the first job.
 *
 * @throws LlmJobsOptionsError listing every problem
 * @example
 * resolveLlmJobsOptions({ rabbitmqUrl: 'amqp://localhost', redis: { url: 'redis://localhost' } })
 */
export function resolveLlmJobsOptions(options: LlmJobsOptions): ResolvedLlmJobsOptions {
  const checks = new OptionChecks();
  const example = "{ rabbitmqUrl: 'amqp://localhost:5672', redis: { url: 'redis://localhost' } }";
  const given = checks.section(options, '', KEYS, example) ?? {};
  if (typeof options !== 'object' || options === null)
    checks.report('options', `must be ${example}`);
  // The URL may hold a password: never quoted.
  const rabbitmqUrl = checks.text(given.rabbitmqUrl, 'rabbitmqUrl', {
    required: true,
    secret: true,
    example: 'amqp://localhost:5672',
  });
  if (rabbitmqUrl !== undefined && !/^amqps?:\/\//.test(rabbitmqUrl)) {
    checks.report(
      'rabbitmqUrl',
      'must be an amqp:// or amqps:// URL such as amqp://localhost:5672',
    );
  }
  const redis = readRedis(given.redis, checks);
  const d = LLM_DEFAULTS.jobs;
  const queue = checks.text(given.queue, 'queue') ?? d.queue;
  if (!/^[\w.:-]{1,200}$/.test(queue)) {
    checks.report('queue', 'must be 1-200 letters, digits, or . _ : -');
  }
  const count = (key: keyof typeof COUNTS): number =>
    checks.number(given[key], key, COUNTS[key]) ?? d[key];
  const concurrency = checks.number(given.concurrency, 'concurrency', { min: 1, whole: true });
  const resolved: ResolvedLlmJobsOptions = {
    rabbitmqUrl: rabbitmqUrl ?? '',
    redis: redis ?? { url: '' },
    queue,
    defaultDeadlineMs: count('defaultDeadlineMs'),
    maxDeadlineMs: count('maxDeadlineMs'),
    stateTtlMs: count('stateTtlMs'),
    maxDeliveries: count('maxDeliveries'),
    holdMs: count('holdMs'),
    failureDelayMs: count('failureDelayMs'),
    worker: checks.boolean(given.worker, 'worker') ?? d.worker,
    ...(concurrency === undefined ? {} : { concurrency }),
  };
  if (resolved.defaultDeadlineMs > resolved.maxDeadlineMs) {
    checks.report(
      'defaultDeadlineMs',
      `(${resolved.defaultDeadlineMs}) must not exceed maxDeadlineMs (${resolved.maxDeadlineMs})`,
    );
  }
  if (checks.problems.length > 0) throw new LlmJobsOptionsError(checks.problems);
  return resolved;
}

/** Job states need Redis: `{ url }` or `{ client }`, required. */
function readRedis(
  given: unknown,
  checks: OptionChecks,
): ResolvedLlmJobsOptions['redis'] | undefined {
  const example = '{ url: "redis://localhost:6379" } or { client: <ioredis client> }';
  const redis = checks.section(given, 'redis', ['url', 'client'], example);
  if (redis === undefined) {
    if (given === undefined) checks.report('redis', `is required: ${example}`);
    return undefined;
  }
  const url = checks.text(redis.url, 'redis.url', { secret: true });
  if (url !== undefined && redis.client === undefined) return { url };
  if (redis.url === undefined && typeof redis.client === 'object' && redis.client !== null) {
    return {
      client: redis.client as Extract<
        ResolvedLlmJobsOptions['redis'],
        { client: unknown }
      >['client'],
    };
  }
  if (url !== undefined || redis.url === undefined) {
    checks.report('redis', `must be ${example}`);
  }
  return undefined;
}
