import { type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_LLM_REQUEST_REDELIVERED,
  ATTR_LLM_REQUEST_RPC_OUTCOME,
  ATTR_LLM_REQUEST_TRANSPORT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_RPC_SYSTEM_NAME,
} from './llm.semconv';
import { LLM_TRACER_NAME } from './llm-tracing';
import type { LlmRpcTransport } from './rpc-message.reader';
import type { LlmRpcRequestInfo } from './rpc-request.info';

/** `messaging.system` of the broker transports (OpenTelemetry's values). */
const MESSAGING_SYSTEM: Partial<Record<LlmRpcTransport, string>> = {
  rmq: 'rabbitmq',
  kafka: 'kafka',
  nats: 'nats',
  redis: 'redis',
  mqtt: 'mqtt',
};

/**
 * The span of one message handler, `process {pattern}`: a consumer span for brokers, a server
 * span for TCP and gRPC. Its parent is the producer's span when the message carried trace
 * context, so the worker's LLM call spans (its children) sit in the producer's trace. It holds
 * the same facts as the request event: transport, pattern, redelivery, outcome.
 */
export function startRpcMessageSpan(info: LlmRpcRequestInfo, parent: Context): Span {
  const system = MESSAGING_SYSTEM[info.transport];
  return trace.getTracer(LLM_TRACER_NAME).startSpan(
    `process ${info.pattern ?? info.transport}`,
    {
      kind: system ? SpanKind.CONSUMER : SpanKind.SERVER,
      attributes: {
        ...(system
          ? { [ATTR_MESSAGING_SYSTEM]: system }
          : { [ATTR_RPC_SYSTEM_NAME]: info.transport }),
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        ...(info.pattern ? { [ATTR_MESSAGING_DESTINATION_NAME]: info.pattern } : {}),
        [ATTR_LLM_REQUEST_TRANSPORT]: info.transport,
        ...(info.redelivered === undefined
          ? {}
          : { [ATTR_LLM_REQUEST_REDELIVERED]: info.redelivered }),
      },
    },
    parent,
  );
}

/** Ends the handler's span with its outcome; an error sets the span's status. */
export function endRpcMessageSpan(span: Span, info: LlmRpcRequestInfo, error: unknown): void {
  if (info.outcome) span.setAttribute(ATTR_LLM_REQUEST_RPC_OUTCOME, info.outcome);
  if (info.outcome === 'error' || info.outcome === 'nack') {
    const kind = (error as { kind?: unknown } | undefined)?.kind;
    span.setAttribute(ATTR_ERROR_TYPE, typeof kind === 'string' ? kind : info.outcome);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
