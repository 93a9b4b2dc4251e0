import { type LlmEventDocument } from './llm-event.fields';
import { type LlmEventSink } from './llm-event.sink';

/** Lines held before a write is forced: bounds the memory a burst of events may take. */
const MAX_PENDING_BYTES = 256 * 1024;

/** Sinks holding lines, flushed by one `exit` hook if the process ends before their turn. */
const pendingSinks = new Set<LogEventSink>();
let exitHooked = false;

/**
 * Writes each event as one JSON line on stdout, for log shippers (Filebeat, Elastic Agent,
 * Fluent Bit, `docker logs`) when no cluster is configured. The line is the document itself,
 * with the same ECS field names, so a shipper can index it as it is.
 *
 * Lines are written once the current turn of the event loop is over (`setImmediate`), all the
 * lines of that turn in one write: stdout is synchronous on pipes and files, and a write per
 * event on the call path delayed every response (and, with a slow log reader, blocked it). A
 * burst past 256 KiB is written at once; lines still held when the process exits are written by
 * its `exit` hook.
 *
 * @example
 * new LogEventSink().write({ 'event.action': 'llm-call', 'event.outcome': 'success' });
 * // after this turn: {"event.action":"llm-call","event.outcome":"success"}
 */
export class LogEventSink implements LlmEventSink {
  private pending = '';
  private scheduled = false;

  /** @param out where lines go; tests pass their own. @default process.stdout */
  constructor(
    private readonly out: (lines: string) => void = (lines) => void process.stdout.write(lines),
  ) {}

  write(event: LlmEventDocument): void {
    let line: string;
    try {
      line = `${JSON.stringify(event)}\n`;
    } catch {
      return;
    }
    this.pending += line;
    if (this.pending.length >= MAX_PENDING_BYTES) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    pendingSinks.add(this);
    hookExit();
    setImmediate(() => this.flush());
  }

  /** Writes the lines held now, if any. */
  flush(): void {
    this.scheduled = false;
    pendingSinks.delete(this);
    const lines = this.pending;
    if (lines === '') return;
    this.pending = '';
    try {
      this.out(lines);
    } catch {
      // A closed or broken stdout must not fail the call that produced the event.
    }
  }
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const sink of [...pendingSinks]) sink.flush();
  });
}
