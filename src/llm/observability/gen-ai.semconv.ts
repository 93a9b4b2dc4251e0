/**
 * The incubating OpenTelemetry attribute names this module records, as local constants. The
 * GenAI conventions are moving to their own repository and being renamed, and the incubating
 * exports of `@opentelemetry/semantic-conventions` 1.45 are deprecated: a rename here is a
 * one-line change, with no dependency on a deprecated entry point. Stable names (`server.*`,
 * `error.type`, `http.*`) come from the package's stable exports.
 *
 * @see https://github.com/open-telemetry/semantic-conventions-genai
 */
export const GEN_AI = {
  /** `chat` for chat completions. */
  operationName: 'gen_ai.operation.name',
  /** Replaces the deprecated `gen_ai.system`: `openai`, `azure.ai.openai`, `deepseek`, ... */
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  /** Prompt messages as JSON (opt-in only: they may hold personal data). */
  inputMessages: 'gen_ai.input.messages',
  /** Completion messages as JSON (opt-in only). */
  outputMessages: 'gen_ai.output.messages',
} as const;

/** Values of {@link GEN_AI.operationName}. */
export const GEN_AI_OPERATION = {
  chat: 'chat',
} as const;

/** Incubating names outside the GenAI set. */
export const INCUBATING = {
  /** The end user the call served (unbounded: spans and events only, never a metric label). */
  userId: 'user.id',
} as const;

/** Incubating messaging names, on the span of a message handler (see `rpc-message.span.ts`). */
export const MESSAGING = {
  /** `rabbitmq`, `kafka`, `nats`, `redis`, `mqtt`: brokers only. */
  system: 'messaging.system',
  /** The pattern, channel, subject or topic. */
  destinationName: 'messaging.destination.name',
  /** `process` for a handler. */
  operationType: 'messaging.operation.type',
  /** `grpc` or `tcp` for request-reply transports without a broker. */
  rpcSystem: 'rpc.system',
} as const;
