import { LlmError } from '../resilience/llm.errors';
import type { BudgetDimension } from './budget.store';

/** `providerCode` of the limiter's own rejections: they never reached the provider. */
export const LOCAL_RATE_LIMIT = 'local_rate_limit';

/**
 * Why the limiter rejected a call at once (the `llm.limiter.reason` metric label):
 * `upstream_hold` when the upstream answered 429 with a wait that outlasts the call's deadline.
 */
export type RateLimitRejection = 'deadline' | 'queue_full' | 'too_large' | 'upstream_hold';

/** The budget a rejection is about, as errors name it. */
export interface BudgetIdentity {
  upstream: string;
  /** Set for a model's own budget; unset for the upstream's shared one. */
  model?: string;
  rpm?: number;
  tpm?: number;
  windowMs: number;
}

/** The budget's wait would pass the call's deadline. */
export function waitPastDeadlineError(
  budget: BudgetIdentity,
  model: string,
  details: { waitMs: number; remainingMs: number; attemptMs?: number; dimension: BudgetDimension },
): LlmError {
  const { waitMs, remainingMs, attemptMs = 0, dimension } = details;
  const limit = dimension === 'requests' ? `${budget.rpm} requests` : `${budget.tpm} tokens`;
  // Room may free before the deadline, but too late for an attempt of usual length to finish.
  const when =
    waitMs <= remainingMs && attemptMs > 0
      ? `room frees in ${seconds(waitMs)}, too late for an attempt (they take about ` +
        `${seconds(attemptMs)}) to finish within the call's deadline (${seconds(remainingMs)} left). `
      : `room frees in ${seconds(waitMs)}, after the call's deadline (${seconds(remainingMs)} left). `;
  return rejection(
    budget.upstream,
    model,
    waitMs,
    `The ${describe(budget)} (${limit} ${per(budget.windowMs)}) has no room for this call; ` +
      when +
      `Retry in ${seconds(waitMs)}, give the call a longer deadlineMs, or raise ` +
      `limits.${dimension === 'requests' ? 'rpm' : 'tpm'} if the provider grants more.`,
  );
}

/** `limits.maxQueue` calls already wait for this budget. */
export function queueFullError(
  budget: BudgetIdentity,
  model: string,
  details: { waiting: number; waitMs: number },
): LlmError {
  return rejection(
    budget.upstream,
    model,
    details.waitMs,
    `${details.waiting} calls already wait for the ${describe(budget)} (limits.maxQueue); ` +
      `rejected at once. Retry in about ${seconds(details.waitMs)}, shed load, or raise ` +
      `limits.maxQueue.`,
  );
}

/** The call's token estimate alone exceeds the whole tokens budget: no wait would help. */
export function tooLargeError(budget: BudgetIdentity, model: string, tokens: number): LlmError {
  return rejection(
    budget.upstream,
    model,
    undefined,
    `This call needs about ${tokens} tokens (prompt plus max_tokens), more than the whole ` +
      `${describe(budget)} of ${budget.tpm} tokens ${per(budget.windowMs)}. Lower max_tokens or ` +
      `shorten the prompt, or raise limits.tpm if the provider grants more.`,
  );
}

/** The upstream asked (a 429's hint) to wait past what the call's deadline leaves. */
export function heldPastDeadlineError(
  upstream: string,
  model: string,
  details: { refused: boolean; waitMs: number; remainingMs: number; attemptMs: number },
): LlmError {
  const { refused, waitMs, remainingMs, attemptMs } = details;
  const tooLate =
    waitMs <= remainingMs
      ? `too late for an attempt (they take about ${seconds(attemptMs)}) to finish within the ` +
        `call's deadline (${seconds(remainingMs)} left)`
      : `after the call's deadline (${seconds(remainingMs)} left)`;
  return rejection(
    upstream,
    model,
    waitMs,
    (refused
      ? `Upstream '${upstream}' model '${model}' answered 429 to an earlier call and asked to ` +
        `wait; its wait ends in ${seconds(waitMs)}, ${tooLate}.`
      : `Upstream '${upstream}' model '${model}' said on an earlier answer that no request ` +
        `remains (x-ratelimit-remaining-requests: 0); the next is back in ${seconds(waitMs)}, ` +
        `${tooLate}.`) +
      ` Not sent: the provider would refuse it. ` +
      `Retry in ${seconds(waitMs)}, give the call a longer deadlineMs, or set limits.rpm / ` +
      `limits.tpm so that calls are paced below the provider's limit.`,
  );
}

/** A call waiting in the limiter when the module shuts down: another replica may take it. */
export function shutdownError(
  context: { upstream: string; model: string; attempts: number },
  waitingFor: string,
): LlmError {
  return new LlmError(
    'shutting_down',
    `The call to upstream '${context.upstream}' model '${context.model}' was waiting ` +
      `${waitingFor} when LlmModule shut down; it was not sent. Send it again to another replica.`,
    { ...context, retryable: false },
  );
}

function rejection(
  upstream: string,
  model: string,
  retryAfterMs: number | undefined,
  message: string,
): LlmError {
  return new LlmError('rate_limited', message, {
    retryable: false,
    retryAfterMs: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs),
    upstream,
    model,
    providerCode: LOCAL_RATE_LIMIT,
  });
}

function describe(budget: BudgetIdentity): string {
  return budget.model === undefined
    ? `rate-limit budget of upstream '${budget.upstream}'`
    : `rate-limit budget of upstream '${budget.upstream}' model '${budget.model}'`;
}

function per(windowMs: number): string {
  return windowMs === 60_000 ? 'per minute' : `per ${seconds(windowMs)} window`;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
