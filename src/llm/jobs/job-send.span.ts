import { SpanKind, type Span, type Tracer } from '@opentelemetry/api';
import type { LlmJobMessage } from './llm-job.types';
import {
  ATTR_LLM_JOB_ID,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '../observability/llm.semconv';

/**
 * The `send <queue>` span (PRODUCER) of an enqueue, child of the active request's span
 * (OpenTelemetry's messaging conventions: `{operation} {destination}`).
 */
export function startSendSpan(tracer: Tracer, queue: string, message: LlmJobMessage): Span {
  return tracer.startSpan(`send ${queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR_MESSAGING_SYSTEM]: 'rabbitmq',
      [ATTR_MESSAGING_DESTINATION_NAME]: queue,
      [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
      [ATTR_MESSAGING_MESSAGE_ID]: message.id,
      [ATTR_LLM_JOB_ID]: message.id,
    },
  });
}
