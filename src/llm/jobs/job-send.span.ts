import { SpanKind, Span, Tracer } from '@opentelemetry/api';
import type { LlmJobMessage } from './llm-job.types';
import { LLM_JOB_ATTRIBUTES as ATTR, LLM_JOB_SPANS } from './llm-jobs.semconv';

/** The `send <queue>` span (PRODUCER) of an enqueue, child of the active request's span. */
export function startSendSpan(tracer: Tracer, queue: string, message: LlmJobMessage): Span {
  return tracer.startSpan(LLM_JOB_SPANS.enqueue(queue), {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.messagingSystem]: 'rabbitmq',
      [ATTR.destination]: queue,
      [ATTR.operationType]: 'send',
      [ATTR.messageId]: message.id,
      [ATTR.jobId]: message.id,
    },
  });
}
