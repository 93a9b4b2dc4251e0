import type { Redis } from 'ioredis';

/** A model's own budget; a field it leaves out takes the upstream's value. */
export interface LlmModelLimitOptions {
  /** Requests per window for this model. @default the upstream's `rpm` */
  rpm?: number;
  /** Tokens (prompt + completion) per window for this model. @default the upstream's `tpm` */
  tpm?: number;
}

/**
 * Requests- and tokens-per-minute budgets of one upstream (may also be given once in `defaults`).
 * Without `rpm` or `tpm` anywhere, the upstream has no budget and attempts go at once.
 *
 * @example
 * limits: { rpm: 500, tpm: 200_000, models: { 'gpt-4o': { rpm: 100, tpm: 30_000 } } }
 */
export interface LlmLimitOptions {
  /** Requests per window shared by every model of the upstream without its own entry. @default no limit */
  rpm?: number;
  /** Tokens per window shared by every model of the upstream without its own entry. @default no limit */
  tpm?: number;
  /**
   * Models with a budget of their own (OpenAI limits each model separately), keyed by the model
   * name the request sends. Their calls do not count against the upstream's shared budget.
   * @default {}
   */
  models?: Record<string, LlmModelLimitOptions>;
  /**
   * The rate limiter's queue: calls waiting for one budget; one more is rejected at once with
   * `rate_limited`. (`bulkhead.maxQueue` is the bulkhead's queue, of calls waiting for a slot.)
   * Formerly `maxWaiting`. @default 1000
   */
  maxQueue?: number;
  /**
   * Replicas that share the provider's quota. Each takes `1/replicas` of every budget when it
   * cannot coordinate through Redis (none configured, or unreachable). @default 1
   */
  replicas?: number;
  /** Length of the budget's sliding window; providers count per minute. @default 60000 */
  windowMs?: number;
  /**
   * The short interval admissions are paced over, as providers enforce: no interval of this length
   * admits more than its share of the window's limit (`rpm × intervalMs / windowMs`), and within
   * it admissions are spread evenly, a tenth of the share at most going at once. The window's limit
   * still holds. 0 turns pacing off (the whole window's budget may then go at once); pacing is also
   * off when the interval is not shorter than the window. @default 1000
   */
  intervalMs?: number;
  /**
   * Tokens reserved for the completion when the request sets neither `max_tokens` nor
   * `max_completion_tokens`; the real usage replaces the estimate after the response. @default 256
   */
  completionTokens?: number;
  /**
   * Gives back the tokens a call reserved and did not use (its estimate above its real usage)
   * once its usage is known. Azure OpenAI counts the estimate itself (the prompt and `max_tokens`)
   * against its TPM, whatever the completion used: refunding it, a correct `tpm` still met a 429
   * for one request in four.
   * @default on, off when the upstream's `provider` names Azure
   */
  refundUnusedTokens?: boolean;
  /**
   * Take 5 % off the rate after a 429 that got through anyway (at most once per sixtieth of the
   * window: 1 s of a minute), down to a tenth, and add 5 % of the limit back per sixtieth of the
   * window of success without 429 (AIMD): rare 429s cost a few percent for a second or two.
   * @default true
   */
  adaptive?: boolean;
}

/**
 * Where budgets live when several replicas share one provider quota. The connection fails fast:
 * while Redis is unreachable each replica falls back to its share of every budget.
 *
 * @example
 * redis: { url: process.env.REDIS_URL }
 */
export interface LlmRedisOptions {
  /**
   * `redis://[:password@]host:port[/db]` or `rediss://`; the module opens and closes it. Left
   * undefined (an unset variable) with no `client`, budgets stay in memory. @default no Redis
   */
  url?: string;
  /** An ioredis client of the application's instead of `url`; the module never closes it. @default none */
  client?: Redis;
  /** Prefix of every key the budgets use. @default 'llm:ratelimit:' */
  keyPrefix?: string;
  /** Longest wait for one Redis operation before the replica falls back to its share. @default 200 */
  timeoutMs?: number;
}

/** The numbers of one budget, per window. */
export interface BudgetNumbers {
  rpm?: number;
  tpm?: number;
}

/** An upstream's budgets with every default filled in. */
export interface ResolvedLimits extends BudgetNumbers {
  /** Per model: its own numbers, the upstream's filling the gaps. */
  models: Record<string, BudgetNumbers>;
  maxQueue: number;
  replicas: number;
  windowMs: number;
  intervalMs: number;
  completionTokens: number;
  refundUnusedTokens: boolean;
  adaptive: boolean;
}

/** Redis settings after validation. */
export interface ResolvedRedisOptions {
  url?: string;
  client?: Redis;
  keyPrefix: string;
  timeoutMs: number;
}
