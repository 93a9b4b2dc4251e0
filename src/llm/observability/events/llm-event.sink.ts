import { type LlmEventDocument } from './llm-event.fields';

/**
 * Where business events go. A port: the module ships an Elasticsearch sink and a JSON-lines
 * log sink; one name is both the type and the injection token.
 *
 * `write` runs for every LLM call and every request, on the turn after the call ended (the
 * caller already has its answer; see `LlmEventRecorder`): it must be synchronous, never throw and
 * never wait for I/O (buffer and ship in the background).
 *
 * @example
 * class CountingSink implements LlmEventSink {
 *   count = 0;
 *   write(_event: LlmEventDocument) { this.count++; }
 * }
 */
export interface LlmEventSink {
  write(event: LlmEventDocument): void;
}

/** Injection token of the active {@link LlmEventSink}; `null` when events are off. */
export const LlmEventSink = Symbol('LlmEventSink');
