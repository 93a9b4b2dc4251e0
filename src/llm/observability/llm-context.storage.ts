import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { type LlmCallContext } from '../call/chat.types';
import type { CallRecord } from '../call/call-record';

/** The business context of the work in progress, plus the LLM calls it made so far. */
export interface LlmRequestContext extends LlmCallContext {
  /** The route template of the inbound request (`/v1/chat/completions`), when there is one. */
  route?: string;
  /** Every LLM call made while this context was active. */
  readonly calls: CallRecord[];
}

const storage = new AsyncLocalStorage<LlmRequestContext>();

/** The context of the request (or job) being handled, if any. */
export function currentLlmContext(): LlmRequestContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with a business context, for work outside an HTTP or RPC request (queues, cron):
 * every LlmClient call inside picks up the user and feature.
 *
 * @example
 * await runWithLlmContext({ userId: job.userId, featureName: 'nightly-digest' }, () =>
 *   this.digest.send(job),
 * );
 */
export function runWithLlmContext<T>(context: LlmCallContext, fn: () => T): T {
  return storage.run({ ...context, calls: [] }, fn);
}

/** Runs `fn` inside an already built context (the interceptor's). */
export function runInLlmContext<T>(context: LlmRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

// Request ids made ahead, a batch at a time: made alone on a request's way, a UUID costs several
// times what it costs in a batch (Node's code and the random bytes it reads are cold by then).
const IDS_PER_BATCH = 64;
const madeIds: string[] = [];

/**
 * A new request id: a random (version 4) UUID from `crypto.randomUUID()`, made in batches.
 *
 * @example
 * const requestId = extractors.requestId(context) ?? newRequestId();
 */
export function newRequestId(): string {
  if (madeIds.length === 0) {
    for (let i = 0; i < IDS_PER_BATCH; i++) madeIds.push(randomUUID());
  }
  return madeIds.pop()!;
}
