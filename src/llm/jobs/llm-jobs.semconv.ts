/**
 * Span names and attributes of jobs. The messaging ones are OpenTelemetry's messaging semantic
 * conventions (incubating, so kept here by name): `send` when a job is enqueued, `process` when a
 * worker runs it, linked to the send span, with the call's `chat {model}` span as its child.
 */
export const LLM_JOB_SPANS = {
  enqueue: (queue: string) => `send ${queue}`,
  process: (queue: string) => `process ${queue}`,
} as const;

export const LLM_JOB_ATTRIBUTES = {
  messagingSystem: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  jobId: 'llm.job.id',
  queueWaitMs: 'llm.job.queue_wait_ms',
  delivery: 'llm.job.delivery',
  outcome: 'llm.job.outcome',
} as const;
