// The public API of nestjs-resilient-llm: everything an application imports comes from here.
// Internals (tracing, metrics, recorders, resolved options and their tokens, the policies
// registry, the limiter) are not exported; inside src/ import from the defining file.
// test/package.public-api.e2e-spec.ts snapshots this list, so a change to it is deliberate.
export { LlmModule } from './llm.module';
export type { LlmModuleExtras, LlmOptionsFactory } from './llm.module-definition';
export { LLM_DEFAULTS } from './options/llm.defaults';
export type {
  LlmBreakerOptions,
  LlmBulkheadOptions,
  LlmFallbackTarget,
  LlmLastResort,
  LlmModuleOptions,
  LlmPolicyOptions,
  LlmRetryOptions,
  LlmStreamUsage,
  LlmTimeoutOptions,
  LlmUpstreamOptions,
} from './llm-module.options';
export { LlmOptionsError } from './options/llm-options.error';
export { LlmClient } from './client/llm-client';
export { LlmChatStream } from './client/llm-chat-stream';
export type {
  ChatChoiceLogprobs,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessage,
  ChatCompletionRequest,
  ChatCompletionUsage,
  ChatFinishReason,
  ChatMessage,
  ChatMessageToolCall,
  ChatTokenLogprob,
  LlmCallContext,
  LlmCallMetadata,
  LlmCallOptions,
  LlmChatResult,
} from './call/chat.types';
export {
  isLlmError,
  isLlmErrorKind,
  LlmError,
  LlmIncompleteStreamError,
  RETRYABLE_KINDS,
} from './resilience/llm.errors';
export { isLlmErrorJson } from './resilience/llm-error.json';
export type { LlmErrorJson } from './resilience/llm-error.json';
export { maskUrlPasswords, redactSecrets } from './resilience/secret-redaction';
export type { DelaySource, LlmErrorDetails, LlmErrorKind } from './resilience/llm.errors';
export type { BreakerState } from './resilience/tracked-breaker';
export type {
  LlmLimitOptions,
  LlmModelLimitOptions,
  LlmRedisOptions,
} from './limits/llm-limits.options';
export { LOCAL_RATE_LIMIT } from './limits/rate-limit.errors';
export { estimateTokens } from './limits/token-estimator';
export { LlmHealthIndicator } from './health/llm.health';
export { LlmDrain } from './lifecycle/llm-drain';
export type { LlmDrainResult } from './lifecycle/llm-drain';
export { LLM_REQUEST_BOUNDS } from './client/request-bounds';
export { clientAbortSignal } from './lifecycle/client-abort.signal';
export { LLM_TRACER_NAME } from './observability/llm-tracing';
export { LLM_METER_NAME } from './observability/llm-metrics';
export type { CallRecordView, CallUpstreamView } from './call/call-record.view';
export type { FallbackHop } from './call/call-record.types';
export { currentLlmContext, runWithLlmContext } from './observability/llm-context.storage';
export { LlmContextInterceptor } from './observability/llm-context.interceptor';
export { LlmFeature } from './observability/llm-feature.decorator';
export {
  cleanContextValue,
  defaultFeatureExtractor,
  defaultRequestIdExtractor,
  defaultUserIdExtractor,
  isSafeRequestId,
} from './observability/llm-context.extractors';
export {
  rpcHeader,
  rpcPatternOf,
  rpcRedelivered,
  rpcTransportOf,
} from './observability/rpc-message.reader';
export type { LlmRpcTransport } from './observability/rpc-message.reader';
export type { LlmRpcOutcome, LlmRpcRequestInfo } from './observability/rpc-request.info';
export { LlmRpcExceptionFilter } from './microservices/llm-rpc-exception.filter';
export { LlmHttpExceptionFilter } from './http/llm-http-exception.filter';
export type { LlmHttpExceptionFilterOptions } from './http/llm-http-exception.filter';
export { propagateLlmTraceContext } from './microservices/llm-client-proxy.tracing';
export type { LlmPropagationOptions } from './microservices/llm-client-proxy.tracing';
export {
  contextFromTraceHeaders,
  llmTraceHeaders,
  TRACE_CONTEXT_HEADERS,
} from './microservices/llm-trace.propagation';
export type { LlmContextExtractor } from './observability/llm-context.extractors';
export type { LlmRequestContext } from './observability/llm-context.storage';
export { LlmEventSink } from './observability/events/llm-event.sink';
export { ElasticsearchEventSink } from './observability/events/elasticsearch-event.sink';
export { LogEventSink } from './observability/events/log-event.sink';
export { LLM_EVENT_FIELDS } from './observability/events/llm-event.fields';
export type { LlmEventDocument, LlmEventField } from './observability/events/llm-event.fields';
export { LLM_EVENT_ACTIONS } from './observability/events/llm-event.base';
export type { LlmRequestOutcome } from './observability/events/llm-request.event';
export type {
  LlmElasticsearchEventsOptions,
  LlmEventsOptions,
} from './observability/events/llm-events.options';
export type { LlmEventDropReason } from './observability/events/event-delivery.reporter';
export { LlmJobsModule } from './jobs/llm-jobs.module';
export { LlmJobs } from './jobs/llm-jobs';
export type { LlmJobAccess, LlmJobWaitOptions } from './jobs/llm-jobs';
export { LlmJobWorker } from './jobs/llm-job.worker';
export type { LlmJobsOptions } from './jobs/llm-jobs.options';
export type { LlmJobsOptionsFactory } from './jobs/llm-jobs.module-definition';
export { LlmJobsOptionsError } from './jobs/llm-jobs-options.resolver';
export { isLlmJobsError, LlmJobsError } from './jobs/llm-jobs.errors';
export type { LlmJobsErrorCode } from './jobs/llm-jobs.errors';
export { TERMINAL_JOB_STATES } from './jobs/llm-job.types';
export type {
  LlmJob,
  LlmJobContext,
  LlmJobError,
  LlmJobOptions,
  LlmJobRecord,
  LlmJobState,
} from './jobs/llm-job.types';
export { fromJobError } from './jobs/llm-job.error';
export type { LlmJobOutcome, LlmJobRedeliveryReason } from './jobs/llm-jobs.metrics';
