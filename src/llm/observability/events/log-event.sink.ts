import { type OnApplicationShutdown } from '@nestjs/common';
import { EventDeliveryReporter } from './event-delivery.reporter';
import { holdUntilExit, releasedBeforeExit } from './held-at-exit';
import { type LlmEventDocument } from './llm-event.fields';
import { type LlmEventSink } from './llm-event.sink';

/** How long events are held before their lines are written (ms). */
export const LOG_FLUSH_INTERVAL_MS = 50;

/** Events held before a write is forced: bounds the memory a burst of events may take. */
const MAX_PENDING_EVENTS = 256;

/**
 * Text held before a write is forced (UTF-16 code units, about bytes for these ASCII lines).
 * Well under a pipe's 64 KiB buffer: stdout is synchronous on pipes, so a write larger than the
 * room left in the pipe blocks the event loop until the reader (a log shipper, Docker, a
 * benchmark) drains it.
 */
export const MAX_HELD_TEXT = 16 * 1024;

/**
 * Writes each event as one JSON line on stdout, for log shippers (Filebeat, Elastic Agent,
 * Fluent Bit, `docker logs`) when no cluster is configured. The line is the document itself,
 * with the same ECS field names, so a shipper can index it as it is.
 *
 * `write` serialises the document at once (the recorder calls it on the turn after the call's
 * answer) and appends its line to the text held. The lines go out in one write when
 * {@link LOG_FLUSH_INTERVAL_MS} ms are over (a timer that does not keep the process alive), at
 * once when {@link MAX_HELD_TEXT} of text or 256 events are held, on Nest's application shutdown
 * and at the process's exit, so no line is lost when the process stops (SIGTERM included).
 * A document that cannot be serialised, and the lines of a write that throws (stdout closed), are
 * counted in `llm.events.dropped` (`unserializable`, `write_failed`) and said in a warn line.
 * stdout is synchronous on pipes: a write per event cost every call a system call, serialising
 * at the flush put a burst of work in front of the next request, and a write near a pipe's size
 * blocked until the reader drained it (measured in bench/README.md, section 5, "Tail latency
 * and Node 22").
 *
 * @example
 * new LogEventSink().write({ 'event.action': 'llm-call', 'event.outcome': 'success' });
 * // within 50 ms: {"event.action":"llm-call","event.outcome":"success"}
 */
export class LogEventSink implements LlmEventSink, OnApplicationShutdown {
  /** The lines held, each ending in a newline. */
  private lines = '';
  private held = 0;
  private timer?: NodeJS.Timeout;
  private readonly flushNow = (): void => this.flush();

  /**
   * @param out where lines go; tests pass their own. @default process.stdout
   * @param flushIntervalMs how long events are held. @default LOG_FLUSH_INTERVAL_MS
   * @param reporter counts what is lost. @default one on the global meter provider
   */
  constructor(
    private readonly out: (lines: string) => void = (lines) => void process.stdout.write(lines),
    private readonly flushIntervalMs = LOG_FLUSH_INTERVAL_MS,
    private readonly reporter: Pick<EventDeliveryReporter, 'dropped'> = new EventDeliveryReporter(),
  ) {}

  write(event: LlmEventDocument): void {
    let line: string;
    try {
      line = JSON.stringify(event);
    } catch {
      // Skipped and counted; the others are still written.
      this.reporter.dropped('unserializable', 1);
      return;
    }
    this.lines += `${line}\n`;
    if (++this.held >= MAX_PENDING_EVENTS || this.lines.length >= MAX_HELD_TEXT) {
      this.flush();
      return;
    }
    if (this.timer) return;
    holdUntilExit(this.flushNow);
    this.timer = setTimeout(this.flushNow, this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes the lines of the events held now, if any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    releasedBeforeExit(this.flushNow);
    const lines = this.lines;
    const held = this.held;
    this.lines = '';
    this.held = 0;
    if (lines === '') return;
    try {
      this.out(lines);
    } catch {
      // A closed or broken stdout must not fail anything: counted (the warn line may fail too).
      try {
        this.reporter.dropped('write_failed', held);
      } catch {
        // Counted before the warn line was tried.
      }
    }
  }

  /** Nest's shutdown (after the drain): what is held is written now. */
  onApplicationShutdown(): void {
    this.flush();
  }
}
