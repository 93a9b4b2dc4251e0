import { type CallRecord } from '../call/call-record';
import { type AttemptRecord, type FallbackHop, type RetryRecord } from '../call/call-record.types';
import { type LlmRequestContext } from './llm-context.storage';
import type { LlmRpcRequestInfo } from './rpc-request.info';

/** How an inbound request that made LLM calls ended (HTTP or RPC). */
export interface LlmRequestEnding {
  context: LlmRequestContext;
  /** `http` or `rpc`. */
  transport: string;
  method?: string;
  path?: string;
  /** HTTP status sent (RPC: 200 on success, 500 on error; not recorded in events). */
  statusCode: number;
  /** For a message handler: the transport, pattern, redelivery and outcome. */
  rpc?: LlmRpcRequestInfo;
  startedAt: number;
  endedAt: number;
  /** The error the handler threw, if it did. */
  error?: unknown;
}

/**
 * A port for whatever watches calls: traces, metrics, business events. Every hook is optional
 * and synchronous (they run on the hot path of every call); none may throw into the call.
 *
 * @example
 * class CallCounter implements LlmCallObserver {
 *   count = 0;
 *   onCallEnd(call: CallRecord) { this.count++; }
 * }
 */
export interface LlmCallObserver {
  /**
   * The call started. While no tracer provider is registered this (and `onAttemptStart`) runs
   * once the attempt's request is handed to Node, in the same turn, or right before the call's
   * next hook when that comes first (see `LlmTelemetry.callStarted`): always before the other
   * hooks of the call, in the same order.
   */
  onCallStart?(call: CallRecord): void;
  onAttemptStart?(call: CallRecord, attempt: AttemptRecord): void;
  onAttemptEnd?(call: CallRecord, attempt: AttemptRecord): void;
  onRetryScheduled?(call: CallRecord, retry: RetryRecord): void;
  /** The call moved along its fallback chain (or to the last-resort answer). */
  onFallback?(call: CallRecord, hop: FallbackHop): void;
  /** After the call ended (for a stream: its last chunk, or its failure). */
  onCallEnd?(call: CallRecord): void;
  /** After an intercepted request that made at least one LLM call ended. */
  onRequestEnd?(request: LlmRequestEnding): void;
  /**
   * Runs one attempt inside the observer's own context, e.g. with the attempt span active so the
   * HTTP client span becomes its child. Must call `run` exactly once and return its result.
   */
  wrapAttempt?<T>(call: CallRecord, attempt: AttemptRecord, run: () => Promise<T>): Promise<T>;
}
