import {
  defaultFeatureExtractor,
  defaultRequestIdExtractor,
  defaultUserIdExtractor,
} from './observability/llm-context.extractors';
import {
  LLM_DEFAULTS,
  LlmModuleOptions,
  LlmPolicyOptions,
  LlmUpstreamOptions,
  ResolvedLlmOptions,
  ResolvedUpstream,
} from './llm-module.options';
import { resolveLimits, resolveRedis } from './limits/llm-limits-options.resolver';
import { reconcileDefaults } from './llm-defaults.reconciler';

/** Thrown at startup when LlmModule options are wrong; lists every problem with its field path. */
export class LlmOptionsError extends Error {
  readonly code = 'LLM_INVALID_OPTIONS';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid LlmModule options:\n  - ${problems.join('\n  - ')}`);
    this.name = 'LlmOptionsError';
  }
}

/** Validates the options and fills in every default, once, at startup. */
export function resolveLlmOptions(options: LlmModuleOptions): ResolvedLlmOptions {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new LlmOptionsError(['options must be an object with an `upstreams` array']);
  }
  if (!Array.isArray(options.upstreams) || options.upstreams.length === 0) {
    throw new LlmOptionsError([
      'upstreams must be a non-empty array, e.g. [{ name: "openai", baseUrl: "https://api.openai.com/v1", apiKey, defaultModel: "gpt-4o-mini" }]',
    ]);
  }
  const upstreams = new Map<string, ResolvedUpstream>();
  options.upstreams.forEach((upstream, i) => {
    const at = `upstreams[${i}]`;
    const resolved = resolveUpstream(upstream, options.defaults ?? {}, at, problems);
    if (upstreams.has(resolved.name)) problems.push(`${at}.name '${resolved.name}' is used twice`);
    upstreams.set(resolved.name, resolved);
  });
  checkFallbacks(upstreams, problems);
  const defaultUpstream = options.defaultUpstream ?? options.upstreams[0]?.name ?? '';
  if (!upstreams.has(defaultUpstream)) {
    problems.push(
      `defaultUpstream '${defaultUpstream}' is not the name of any upstream (${[...upstreams.keys()].join(', ')})`,
    );
  }
  const failReadinessWhenOpen = options.health?.failReadinessWhenOpen ?? false;
  if (typeof failReadinessWhenOpen !== 'boolean') {
    problems.push(
      `health.failReadinessWhenOpen must be a boolean, got ${describe(failReadinessWhenOpen)}`,
    );
  }
  const captureContent = options.tracing?.captureContent ?? false;
  if (typeof captureContent !== 'boolean') {
    problems.push(`tracing.captureContent must be a boolean, got ${describe(captureContent)}`);
  }
  const serviceName = options.serviceName ?? 'nestjs-resilient-llm';
  if (typeof serviceName !== 'string' || serviceName === '') {
    problems.push(`serviceName must be a non-empty string, got ${describe(serviceName)}`);
  }
  const context = resolveContext(options.context ?? {}, problems);
  if (options.lastResort !== undefined && typeof options.lastResort !== 'function') {
    problems.push('lastResort must be a function ({ request, error, call }) => ChatCompletion');
  }
  const redis = resolveRedis(options.redis, problems);
  if (problems.length > 0) throw new LlmOptionsError(problems);
  return {
    upstreams,
    defaultUpstream,
    serviceName,
    lastResort: options.lastResort,
    context,
    tracing: { captureContent },
    events: options.events ?? {},
    health: { failReadinessWhenOpen },
    redis,
  };
}

function resolveFallbacks(
  given: LlmUpstreamOptions['fallbacks'],
  upstream: string,
  at: string,
  problems: string[],
): ResolvedUpstream['fallbacks'] {
  const resolved: ResolvedUpstream['fallbacks'] = {};
  if (given === undefined) return resolved;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    problems.push(`${at}.fallbacks must be an object of model name → [{ upstream?, model? }]`);
    return resolved;
  }
  for (const [model, chain] of Object.entries(given)) {
    if (!Array.isArray(chain)) {
      problems.push(`${at}.fallbacks['${model}'] must be an array of { upstream?, model? }`);
      continue;
    }
    resolved[model] = chain.map((target, i) => {
      const t = (target ?? {}) as { upstream?: unknown; model?: unknown };
      const field = `${at}.fallbacks['${model}'][${i}]`;
      if (t.upstream === undefined && t.model === undefined) {
        problems.push(`${field} must name an upstream, a model, or both`);
      }
      for (const key of ['upstream', 'model'] as const) {
        if (t[key] !== undefined && (typeof t[key] !== 'string' || t[key] === '')) {
          problems.push(`${field}.${key} must be a non-empty string, got ${describe(t[key])}`);
        }
      }
      return {
        upstream: (t.upstream as string | undefined) ?? upstream,
        model: t.model as string | undefined,
      };
    });
  }
  return resolved;
}

/** Every upstream a fallback names must exist. */
function checkFallbacks(
  upstreams: ReadonlyMap<string, ResolvedUpstream>,
  problems: string[],
): void {
  for (const upstream of upstreams.values()) {
    for (const [model, chain] of Object.entries(upstream.fallbacks)) {
      chain.forEach((target, i) => {
        if (!upstreams.has(target.upstream)) {
          problems.push(
            `upstreams '${upstream.name}' fallbacks['${model}'][${i}].upstream '${target.upstream}' ` +
              `is not the name of any upstream (${[...upstreams.keys()].join(', ')})`,
          );
        }
      });
    }
  }
}

function resolveContext(
  given: NonNullable<LlmModuleOptions['context']>,
  problems: string[],
): ResolvedLlmOptions['context'] {
  for (const key of ['userId', 'featureName', 'requestId'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'function') {
      problems.push(`context.${key} must be a function (ExecutionContext) => string | undefined`);
    }
  }
  if (given.global !== undefined && typeof given.global !== 'boolean') {
    problems.push(`context.global must be a boolean, got ${describe(given.global)}`);
  }
  return {
    global: given.global ?? false,
    userId: given.userId ?? defaultUserIdExtractor,
    featureName: given.featureName ?? defaultFeatureExtractor,
    requestId: given.requestId ?? defaultRequestIdExtractor,
  };
}

function resolveUpstream(
  upstream: LlmModuleOptions['upstreams'][number],
  defaults: NonNullable<LlmModuleOptions['defaults']>,
  at: string,
  problems: string[],
): ResolvedUpstream {
  const u = (upstream ?? {}) as Partial<typeof upstream>;
  requireString(u.name, `${at}.name`, problems, 'e.g. "openai"');
  requireString(u.defaultModel, `${at}.defaultModel`, problems, 'e.g. "gpt-4o-mini"');
  if (requireString(u.baseUrl, `${at}.baseUrl`, problems, 'e.g. "https://api.openai.com/v1"')) {
    checkUrl(u.baseUrl as string, `${at}.baseUrl`, problems);
  }
  if (u.apiKey !== undefined && (typeof u.apiKey !== 'string' || u.apiKey.length === 0)) {
    // Never echo the key itself, not even in a startup error.
    problems.push(
      `${at}.apiKey must be a non-empty string when given (omit it for servers that need none)`,
    );
  }
  const userSet = new Set<string>();
  const section = <K extends keyof LlmPolicyOptions>(
    key: K,
  ): Required<NonNullable<LlmPolicyOptions[K]>> =>
    mergeNumbers<Record<string, number>>(
      LLM_DEFAULTS[key],
      defaults[key],
      u[key],
      `${at}.${key}`,
      problems,
      (field) => userSet.add(`${key}.${field}`),
    ) as Required<NonNullable<LlmPolicyOptions[K]>>;
  const resolved: ResolvedUpstream = {
    name: u.name ?? '',
    baseUrl: (u.baseUrl ?? '').replace(/\/+$/, ''),
    apiKey: u.apiKey,
    defaultModel: u.defaultModel ?? '',
    provider: u.provider ?? 'openai',
    headers: { ...(u.headers ?? {}) },
    fallbacks: resolveFallbacks(u.fallbacks, u.name ?? '', at, problems),
    retry: section('retry'),
    breaker: section('breaker'),
    bulkhead: section('bulkhead'),
    timeouts: section('timeouts'),
    limits: resolveLimits(u.limits, defaults.limits, `${at}.limits`, problems),
    adjusted: [],
  };
  checkRanges(resolved, at, problems);
  reconcileDefaults(resolved, userSet, at, problems);
  return resolved;
}

function mergeNumbers<T extends Record<string, number>>(
  base: T,
  shared: Partial<T> | undefined,
  own: Partial<T> | undefined,
  at: string,
  problems: string[],
  onSet: (key: string) => void,
): T {
  const merged: Record<string, number> = { ...base };
  for (const layer of [shared, own]) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (!(key in base)) {
        problems.push(`${at}.${key} is not an option (known: ${Object.keys(base).join(', ')})`);
      } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        problems.push(`${at}.${key} must be a finite number ≥ 0, got ${describe(value)}`);
      } else {
        merged[key] = value;
        onSet(key);
      }
    }
  }
  return merged as T;
}

function checkRanges(u: ResolvedUpstream, at: string, problems: string[]): void {
  const positive: Array<[string, number]> = [
    ['breaker.consecutiveFailures', u.breaker.consecutiveFailures],
    ['bulkhead.maxConcurrent', u.bulkhead.maxConcurrent],
    ...(Object.keys(u.timeouts) as Array<keyof typeof u.timeouts>).map((k): [string, number] => [
      `timeouts.${k}`,
      u.timeouts[k],
    ]),
  ];
  for (const [field, value] of positive) {
    if (!(value > 0)) problems.push(`${at}.${field} must be greater than 0, got ${value}`);
  }
  for (const [field, value] of [
    ['retry.maxRetries', u.retry.maxRetries],
    ['breaker.consecutiveFailures', u.breaker.consecutiveFailures],
    ['bulkhead.maxConcurrent', u.bulkhead.maxConcurrent],
    ['bulkhead.maxQueue', u.bulkhead.maxQueue],
  ] as const) {
    if (!Number.isInteger(value))
      problems.push(`${at}.${field} must be a whole number, got ${value}`);
  }
}

function requireString(
  value: unknown,
  field: string,
  problems: string[],
  example: string,
): boolean {
  if (typeof value === 'string' && value.trim().length > 0) return true;
  problems.push(`${field} must be a non-empty string (${example}), got ${describe(value)}`);
  return false;
}

function checkUrl(value: string, field: string, problems: string[]): void {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`${field} must be an http(s) URL, got protocol '${url.protocol}'`);
    }
  } catch {
    problems.push(
      `${field} must be an absolute URL such as https://api.openai.com/v1, got '${value}'`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? typeof value;
}
