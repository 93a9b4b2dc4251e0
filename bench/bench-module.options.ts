import { LLM_DEFAULTS, type LlmModuleOptions, type LlmPolicyOptions } from '../src/llm/index';

/** The API key every benchmark client sends; the simulator accepts any. */
export const BENCH_API_KEY = 'sk-bench';
/** The model every benchmark asks for. */
export const BENCH_MODEL = 'gpt-4o-mini';

/** Requests per window standing for "per minute": the simulator's limit, told to the limiter. */
export interface BenchLimits {
  rpm: number;
  tpm?: number;
}

/**
 * How the benchmarks set up "this module", in one place, so the load test, the replicas and the
 * latency paths all measure the same configuration.
 */
export interface BenchModuleSetup {
  baseUrl: string;
  /**
   * Real milliseconds that stand for one minute. The module's time-based defaults (backoff, hint
   * cap, breaker open time, timeouts) are scaled by `minuteMs / 60 000`, like the simulator's
   * rate window, so every ratio of the real-time scenario is kept. @default 60000 (real time)
   */
  minuteMs?: number;
  /** Per-upstream budgets for the rate limiter; none means the module's default (unlimited). */
  limits?: BenchLimits;
  /** Shares the budgets through this Redis. */
  redisUrl?: string;
  /** Replicas sharing the quota: each takes its share of the budget while Redis is down. */
  replicas?: number;
  /**
   * Calls wait for an open circuit's probe for up to one open period (`breaker.maxWaitMs` =
   * `breaker.halfOpenAfterMs`) instead of failing at once.
   */
  waitForCircuit?: boolean;
}

/** The module's default policies with every duration multiplied by `minuteMs / 60 000`. */
export function scaledPolicies(minuteMs = 60_000): Required<LlmPolicyOptions> {
  const k = minuteMs / 60_000;
  const scale = (ms: number): number => Math.max(1, Math.round(ms * k));
  const { retry, breaker, bulkhead, timeouts } = LLM_DEFAULTS;
  return {
    retry: {
      maxRetries: retry.maxRetries,
      baseDelayMs: scale(retry.baseDelayMs),
      maxDelayMs: scale(retry.maxDelayMs),
      maxHintMs: scale(retry.maxHintMs),
    },
    breaker: {
      consecutiveFailures: breaker.consecutiveFailures,
      halfOpenAfterMs: scale(breaker.halfOpenAfterMs),
    },
    // A count, not a duration: the defaults as they are.
    bulkhead: { ...bulkhead },
    timeouts: {
      connectMs: scale(timeouts.connectMs),
      attemptMs: scale(timeouts.attemptMs),
      totalMs: scale(timeouts.totalMs),
      firstChunkMs: scale(timeouts.firstChunkMs),
      idleMs: scale(timeouts.idleMs),
    },
  };
}

/** `LlmModule.forRoot` options of "this module" in the benchmarks. */
export function benchModuleOptions(setup: BenchModuleSetup): LlmModuleOptions {
  const minuteMs = setup.minuteMs ?? 60_000;
  const unscaled = minuteMs === 60_000;
  const policies = scaledPolicies(minuteMs);
  return {
    upstreams: [
      {
        name: 'sim',
        baseUrl: setup.baseUrl,
        apiKey: BENCH_API_KEY,
        defaultModel: BENCH_MODEL,
        // Unscaled, nothing is set: the module's own defaults apply, as in an application.
        ...(unscaled ? {} : policies),
        // Calls ride out one open period.
        ...(setup.waitForCircuit
          ? { breaker: { ...policies.breaker, maxWaitMs: policies.breaker.halfOpenAfterMs } }
          : {}),
        ...(setup.limits
          ? {
              limits: {
                ...setup.limits,
                // The limiter's window is the simulator's "minute".
                ...(unscaled ? {} : { windowMs: minuteMs }),
                ...(setup.replicas ? { replicas: setup.replicas } : {}),
              },
            }
          : {}),
      },
    ],
    ...(setup.redisUrl ? { redis: { url: setup.redisUrl } } : {}),
  };
}

/**
 * The gateway's environment for the same setup (`src/main.ts` reads it). The hint cap has no
 * variable: the simulator's hints never exceed its window, so the 60 s default never binds.
 */
export function benchGatewayEnv(setup: BenchModuleSetup): NodeJS.ProcessEnv {
  const { retry, breaker, timeouts } = scaledPolicies(setup.minuteMs);
  const env: NodeJS.ProcessEnv = {
    LLM_BASE_URL: setup.baseUrl,
    LLM_API_KEY: BENCH_API_KEY,
    LLM_MODEL: BENCH_MODEL,
    LLM_MAX_RETRIES: String(retry.maxRetries),
    LLM_RETRY_BASE_MS: String(retry.baseDelayMs),
    LLM_RETRY_MAX_MS: String(retry.maxDelayMs),
    LLM_BREAKER_HALF_OPEN_MS: String(breaker.halfOpenAfterMs),
    LLM_CONNECT_TIMEOUT_MS: String(timeouts.connectMs),
    LLM_ATTEMPT_TIMEOUT_MS: String(timeouts.attemptMs),
    LLM_TOTAL_TIMEOUT_MS: String(timeouts.totalMs),
    LLM_FIRST_CHUNK_TIMEOUT_MS: String(timeouts.firstChunkMs),
    LLM_IDLE_TIMEOUT_MS: String(timeouts.idleMs),
    LLM_EVENTS_LOG: 'false',
  };
  if (setup.limits) env.LLM_RPM = String(setup.limits.rpm);
  if (setup.limits?.tpm) env.LLM_TPM = String(setup.limits.tpm);
  if (setup.limits && setup.minuteMs) env.LLM_RATE_WINDOW_MS = String(setup.minuteMs);
  if (setup.replicas) env.LLM_REPLICAS = String(setup.replicas);
  if (setup.redisUrl) env.REDIS_URL = setup.redisUrl;
  return env;
}
