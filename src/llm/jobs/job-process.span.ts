import { ROOT_CONTEXT, Span, SpanKind, Tracer } from '@opentelemetry/api';
import { fromTraceparent } from './job-trace.context';
import type { LlmJobMessage } from './llm-job.types';
import { LLM_JOB_ATTRIBUTES as ATTR, LLM_JOB_SPANS } from './llm-jobs.semconv';

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
    LLM_JOB_SPANS.process(queue),
    {
      kind: SpanKind.CONSUMER,
      links: link ? [{ context: link }] : [],
      attributes: {
        [ATTR.messagingSystem]: 'rabbitmq',
        [ATTR.destination]: queue,
        [ATTR.operationType]: 'process',
        [ATTR.messageId]: job.id,
        [ATTR.jobId]: job.id,
        [ATTR.queueWaitMs]: run.queueWaitMs,
        [ATTR.delivery]: run.delivery,
      },
    },
    ROOT_CONTEXT,
  );
}
