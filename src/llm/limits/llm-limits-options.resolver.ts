import {
  BudgetNumbers,
  LLM_LIMIT_DEFAULTS,
  LLM_REDIS_DEFAULTS,
  LlmLimitOptions,
  LlmRedisOptions,
  ResolvedLimits,
  ResolvedRedisOptions,
} from './llm-limits.options';

const LIMIT_KEYS = [
  'rpm',
  'tpm',
  'models',
  'maxWaiting',
  'replicas',
  'windowMs',
  'intervalMs',
  'completionTokens',
  'adaptive',
] as const;
const REDIS_KEYS = ['url', 'client', 'keyPrefix', 'timeoutMs'] as const;

/**
 * Merges an upstream's `limits` over `defaults.limits` and validates them, naming each bad field.
 *
 * @returns the resolved budgets, or `undefined` when neither `rpm` nor `tpm` is set anywhere
 */
export function resolveLimits(
  own: LlmLimitOptions | undefined,
  shared: LlmLimitOptions | undefined,
  at: string,
  problems: string[],
): ResolvedLimits | undefined {
  for (const [layer, where] of [
    [shared, 'defaults.limits'],
    [own, at],
  ] as const) {
    if (layer !== undefined && (typeof layer !== 'object' || layer === null)) {
      problems.push(`${where} must be an object such as { rpm: 500, tpm: 200000 }`);
      return undefined;
    }
    for (const key of Object.keys(layer ?? {})) {
      if (!(LIMIT_KEYS as readonly string[]).includes(key)) {
        problems.push(`${where}.${key} is not an option (known: ${LIMIT_KEYS.join(', ')})`);
      }
    }
  }
  const pick = <K extends keyof LlmLimitOptions>(key: K) => own?.[key] ?? shared?.[key];
  const setting = (key: keyof typeof LLM_LIMIT_DEFAULTS, min: number): number =>
    count(pick(key), `${at}.${key}`, min, problems) ?? Number(LLM_LIMIT_DEFAULTS[key]);
  const resolved: ResolvedLimits = {
    rpm: count(pick('rpm'), `${at}.rpm`, 1, problems),
    tpm: count(pick('tpm'), `${at}.tpm`, 1, problems),
    models: {},
    maxWaiting: setting('maxWaiting', 0),
    replicas: setting('replicas', 1),
    // At least 100 ms: catches a window given in seconds (60) instead of milliseconds.
    windowMs: setting('windowMs', 100),
    intervalMs: setting('intervalMs', 0),
    completionTokens: setting('completionTokens', 0),
    adaptive: pick('adaptive') ?? LLM_LIMIT_DEFAULTS.adaptive,
  };
  if (typeof resolved.adaptive !== 'boolean') {
    problems.push(`${at}.adaptive must be a boolean, got ${describe(resolved.adaptive)}`);
  }
  for (const layer of [shared?.models, own?.models]) {
    if (
      layer !== undefined &&
      (typeof layer !== 'object' || layer === null || Array.isArray(layer))
    ) {
      problems.push(`${at}.models must be an object of model name → { rpm?, tpm? }`);
      return undefined;
    }
  }
  const models = { ...(shared?.models ?? {}), ...(own?.models ?? {}) };
  for (const [model, numbers] of Object.entries(models)) {
    resolved.models[model] = resolveModel(numbers, resolved, `${at}.models['${model}']`, problems);
  }
  const limited = [resolved, ...Object.values(resolved.models)].some((b) => b.rpm || b.tpm);
  return limited ? resolved : undefined;
}

function resolveModel(
  given: unknown,
  upstream: BudgetNumbers,
  at: string,
  problems: string[],
): BudgetNumbers {
  if (typeof given !== 'object' || given === null) {
    problems.push(`${at} must be an object such as { rpm: 100, tpm: 30000 }`);
    return {};
  }
  const numbers = given as Record<string, unknown>;
  for (const key of Object.keys(numbers)) {
    if (key !== 'rpm' && key !== 'tpm') problems.push(`${at}.${key} is not an option (rpm, tpm)`);
  }
  return {
    rpm: count(numbers.rpm, `${at}.rpm`, 1, problems) ?? upstream.rpm,
    tpm: count(numbers.tpm, `${at}.tpm`, 1, problems) ?? upstream.tpm,
  };
}

/** Validates the module's `redis` option; `undefined` keeps budgets in memory. */
export function resolveRedis(
  given: LlmRedisOptions | undefined,
  problems: string[],
): ResolvedRedisOptions | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null) {
    problems.push('redis must be an object: { url: "redis://host:6379" } or { client }');
    return undefined;
  }
  for (const key of Object.keys(given)) {
    if (!(REDIS_KEYS as readonly string[]).includes(key)) {
      problems.push(`redis.${key} is not an option (known: ${REDIS_KEYS.join(', ')})`);
    }
  }
  const { url, client } = given;
  if ((url === undefined) === (client === undefined)) {
    problems.push('redis needs exactly one of url (e.g. "redis://localhost:6379") or client');
  } else if (url !== undefined && !/^rediss?:\/\/\S+$/.test(String(url))) {
    // The URL may hold a password: never echo it.
    problems.push('redis.url must be a redis:// or rediss:// URL such as redis://localhost:6379');
  } else if (
    client !== undefined &&
    typeof (client as { defineCommand?: unknown }).defineCommand !== 'function'
  ) {
    problems.push('redis.client must be an ioredis client (new Redis(...))');
  }
  const keyPrefix = given.keyPrefix ?? LLM_REDIS_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string') {
    problems.push(`redis.keyPrefix must be a string, got ${describe(keyPrefix)}`);
  }
  const timeoutMs = count(given.timeoutMs, 'redis.timeoutMs', 1, problems);
  return { url, client, keyPrefix, timeoutMs: timeoutMs ?? LLM_REDIS_DEFAULTS.timeoutMs };
}

/** A whole number ≥ `min`, or `undefined` when not given (or wrong, with a problem noted). */
function count(value: unknown, field: string, min: number, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    problems.push(`${field} must be a whole number ≥ ${min}, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? typeof value;
}
