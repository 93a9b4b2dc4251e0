import { LlmEventDocument } from './llm-event.fields';
import { LlmEventSink } from './llm-event.sink';

/**
 * Writes each event as one JSON line on stdout, for log shippers (Filebeat, Elastic Agent,
 * Fluent Bit, `docker logs`) when no cluster is configured. The line is the document itself,
 * with the same ECS field names, so a shipper can index it as it is.
 *
 * @example
 * new LogEventSink().write({ 'event.action': 'llm-call', 'event.outcome': 'success' });
 * // {"event.action":"llm-call","event.outcome":"success"}
 */
export class LogEventSink implements LlmEventSink {
  /** @param out where lines go; tests pass their own. @default process.stdout */
  constructor(
    private readonly out: (line: string) => void = (line) => void process.stdout.write(line),
  ) {}

  write(event: LlmEventDocument): void {
    try {
      this.out(`${JSON.stringify(event)}\n`);
    } catch {
      // A closed or broken stdout must not fail the call that produced the event.
    }
  }
}
