import { type OnApplicationShutdown } from '@nestjs/common';
import { type LlmEventDocument } from './llm-event.fields';
import { type LlmEventSink } from './llm-event.sink';
import { LogEventSink } from './log-event.sink';

/** Writes every event to each sink; one failing sink never stops the others. */
export class FanOutEventSink implements LlmEventSink, OnApplicationShutdown {
  constructor(private readonly sinks: readonly LlmEventSink[]) {}

  write(event: LlmEventDocument): void {
    for (const sink of this.sinks) {
      try {
        sink.write(event);
      } catch {
        // A sink must not throw; if one does anyway, the others still get the event.
      }
    }
  }

  /**
   * Writes the log lines still held. The Elasticsearch sink is a provider of its own, and Nest
   * runs its shutdown itself.
   */
  onApplicationShutdown(): void {
    for (const sink of this.sinks) if (sink instanceof LogEventSink) sink.flush();
  }
}
