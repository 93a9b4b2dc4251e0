import type { CallRecord } from '../call/call-record';
import type { LlmCallMetadata } from '../call/chat.types';

/** What the caller learns of the call path's work: attempts, target, fallbacks, duration. */
export function callMetadata(record: CallRecord): LlmCallMetadata {
  const last = record.attempts.at(-1);
  return {
    attempts: record.attemptCount,
    upstream: record.upstream.name,
    model: record.model,
    requestedModel: record.requestedModel,
    fallbacks: [...record.fallbacks],
    degraded: record.degraded,
    // The last attempt's, when it answered: a last-resort answer had none of the provider's (its
    // last attempt failed; the events and spans name that one).
    upstreamRequestId: record.degraded ? undefined : last?.upstreamRequestId,
    upstreamHeaders: record.degraded ? undefined : last?.upstreamHeaders,
    clientRequestId: record.clientRequestId,
    durationMs: Date.now() - record.startedAt,
  };
}
