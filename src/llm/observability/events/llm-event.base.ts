import { type SpanContext } from '@opentelemetry/api';
import { ATTR_SERVICE_NAME } from '../llm.semconv';
import { type LlmEventDocument, type LlmEventField } from './llm-event.fields';

/** What every event carries besides what happened: who wrote it and where it is filed. */
export interface LlmEventSource {
  /** `service.name`. */
  serviceName: string;
  /** `event.dataset`: the dataset of the data stream the event goes to. */
  dataset: string;
}

/** `event.action` of the two kinds of business event. */
export const LLM_EVENT_ACTIONS = {
  call: 'llm-call',
  request: 'llm-request',
} as const;

/** The fields shared by both kinds of event (ECS `event.*`, `service.name`, `trace.*`). */
export function baseEvent(
  source: LlmEventSource,
  timing: { startedAt: number; endedAt: number },
  span: SpanContext | undefined,
): LlmEventDocument {
  const end = new Date(timing.endedAt).toISOString();
  const event: LlmEventDocument = {
    // The moment the outcome was known: dashboards count failures when they happened.
    '@timestamp': end,
    'event.kind': 'event',
    'event.dataset': source.dataset,
    'event.start': new Date(timing.startedAt).toISOString(),
    'event.end': end,
    // ECS wants nanoseconds.
    'event.duration': Math.max(0, timing.endedAt - timing.startedAt) * 1_000_000,
    [ATTR_SERVICE_NAME]: source.serviceName,
  };
  if (span) {
    event['trace.id'] = span.traceId;
    event['span.id'] = span.spanId;
  }
  return event;
}

/** Sets a field when its value is known: documents hold only what is known. */
export function put<F extends LlmEventField>(
  document: LlmEventDocument,
  field: F,
  value: LlmEventDocument[F] | undefined,
): void {
  if (value !== undefined) document[field] = value;
}
