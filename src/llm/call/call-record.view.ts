import type { LlmError } from '../resilience/llm.errors';
import type {
  AttemptRecord,
  CallResponseInfo,
  FallbackHop,
  RetryRecord,
} from './call-record.types';
import type { ChatCompletionRequest, LlmCallContext } from './chat.types';

/** The upstream of a call as an application sees it: its identity, never its key or policies. */
export interface CallUpstreamView {
  readonly name: string;
  readonly provider: string;
  readonly baseUrl: string;
  readonly defaultModel: string;
}

/**
 * A read-only view of one logical call: what it asked for, where it went, what it did. The call
 * path writes the {@link CallRecord}; applications (the `lastResort` function) get this view, so
 * they can read the call but not change what telemetry and events will report.
 *
 * @example
 * lastResort: ({ call }) => cannedAnswer(call.context.featureName, call.fallbacks.length)
 */
export interface CallRecordView {
  readonly startedAt: number;
  readonly attempts: ReadonlyArray<Readonly<AttemptRecord>>;
  readonly retries: ReadonlyArray<Readonly<RetryRecord>>;
  readonly fallbacks: ReadonlyArray<Readonly<FallbackHop>>;
  /** The upstream and model being called now: the requested ones until a fallback moved on. */
  readonly upstream: CallUpstreamView;
  readonly model: string;
  /** The upstream and model the caller asked for. */
  readonly requestedUpstream: CallUpstreamView;
  readonly requestedModel: string;
  /** True when the answer came from the last-resort function, not from any model. */
  readonly degraded: boolean;
  /** Time spent waiting for open circuits to let a probe through. */
  readonly breakerWaitMs: number;
  readonly clientRequestId: string;
  readonly stream: boolean;
  readonly context: Readonly<LlmCallContext>;
  readonly request: Readonly<ChatCompletionRequest>;
  readonly response?: Readonly<CallResponseInfo>;
  /** Set when the call failed: the error the caller received. */
  readonly error?: LlmError;
  readonly endedAt?: number;
  /** Attempts that reached the upstream. */
  readonly attemptCount: number;
  /** Total time spent waiting between attempts. */
  readonly totalDelayMs: number;
  /** Wall time so far, or of the whole call once it ended. */
  readonly durationMs: number;
}
