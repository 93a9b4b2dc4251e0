import type { LlmModuleOptions } from '../../src/llm/index';

/** The API key every benchmark client sends; the simulator accepts any. */
export const BENCH_API_KEY = 'sk-bench';
/** The model every benchmark asks for. */
export const BENCH_MODEL = 'gpt-4o-mini';

/** The provider's limit per minute, told to the limiter: all a new user would set. */
export interface BenchLimits {
  rpm: number;
  tpm?: number;
}

/**
 * How the benchmarks set up "this module", in one place, so the load test, the outage, the
 * replicas and the latency paths all measure the same configuration: the module's defaults, in
 * real time, with only the provider's limit given. Nothing else is set: the defaults are the
 * product, and they are absolute durations.
 */
export interface BenchModuleSetup {
  baseUrl: string;
  /** Per-upstream budgets for the rate limiter; none means the module's default (unlimited). */
  limits?: BenchLimits;
  /** Shares the budgets through this Redis. */
  redisUrl?: string;
}

/** `LlmModule.forRoot` options of "this module" in the benchmarks. */
export function benchModuleOptions(setup: BenchModuleSetup): LlmModuleOptions {
  return {
    upstreams: [
      {
        name: 'sim',
        baseUrl: setup.baseUrl,
        apiKey: BENCH_API_KEY,
        defaultModel: BENCH_MODEL,
        ...(setup.limits ? { limits: { ...setup.limits } } : {}),
      },
    ],
    ...(setup.redisUrl ? { redis: { url: setup.redisUrl } } : {}),
  };
}

/** The gateway's environment for the same setup (`src/main.ts` reads it): the limit, no more. */
export function benchGatewayEnv(setup: BenchModuleSetup): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    LLM_BASE_URL: setup.baseUrl,
    LLM_API_KEY: BENCH_API_KEY,
    LLM_MODEL: BENCH_MODEL,
    LLM_EVENTS_LOG: 'false',
  };
  if (setup.limits) env.LLM_RPM = String(setup.limits.rpm);
  if (setup.limits?.tpm) env.LLM_TPM = String(setup.limits.tpm);
  if (setup.redisUrl) env.REDIS_URL = setup.redisUrl;
  return env;
}
