import { ROOT_CONTEXT, type Span, SpanKind, type Tracer } from '@opentelemetry/api';
import { fromTraceparent } from './job-trace.context';
import type { LlmJobMessage } from './llm-job.types';
import {
  ATTR_LLM_JOB_DELIVERY,
  ATTR_LLM_JOB_ID,
  ATTR_LLM_JOB_QUEUE_WAIT_MS,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '../observability/llm.semconv';

/**
 * The worker's `process <queue>` span (CONSUMER) of one run: a root span of its own, linked to
 * the enqueue's `send` span (messaging conventions: a consumer links to the producer, the job
 * may run long after that request's trace ended). The call's `chat {model}` span is its child.
 */
export function startProcessSpan(
  tracer: Tracer,
  queue: string,
  job: LlmJobMessage,
  run: { queueWaitMs: number; delivery: number },
): Span {
  const link = fromTraceparent(job.traceparent);
  return tracer.startSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      links: link ? [{ context: link }] : [],
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: 'rabbitmq',
        [ATTR_MESSAGING_DESTINATION_NAME]: queue,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_MESSAGE_ID]: job.id,
        [ATTR_LLM_JOB_ID]: job.id,
        [ATTR_LLM_JOB_QUEUE_WAIT_MS]: run.queueWaitMs,
        [ATTR_LLM_JOB_DELIVERY]: run.delivery,
      },
    },
    ROOT_CONTEXT,
  );
}
