import { AsyncLocalStorage } from 'node:async_hooks';
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
