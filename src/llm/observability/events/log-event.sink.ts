import { type OnApplicationShutdown } from '@nestjs/common';
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

/** Sinks holding events, flushed by one `exit` hook if the process ends before their timer. */
const pendingSinks = new Set<LogEventSink>();
let exitHooked = false;

/**
 * Writes each event as one JSON line on stdout, for log shippers (Filebeat, Elastic Agent,
 * Fluent Bit, `docker logs`) when no cluster is configured. The line is the document itself,
 * with the same ECS field names, so a shipper can index it as it is.
 *
 * `write` serialises the document at once (the recorder calls it on the turn after the call's
 * answer) and appends its line to the text held; every line of the last
 * {@link LOG_FLUSH_INTERVAL_MS} ms goes out in one write when that interval is over (a timer that
 * does not keep the process alive). stdout is synchronous on pipes and files: a write per event,
 * or even per turn of the event loop, cost every call a system call and the stream's work (about
 * 0.1 ms a call in the gateway). Serialising at the flush instead put the `JSON.stringify` of
 * every event of the interval (about 80 documents at 800 sequential calls a second, 0.4-0.8 ms)
 * into one task, which a request arriving then waited behind: a p99 hazard. Now the flush only
 * writes. It also writes at once when the text held reaches {@link MAX_HELD_TEXT} (16 KiB, about
 * 9 calls' events): a 50 ms batch of a busy gateway was 45-60 KiB, near a pipe's 64 KiB, and
 * such writes blocked for 0.3 ms at p90 and up to 3 ms (the reader had to run first); 16 KiB
 * writes took 0.06-0.15 ms at p90, for the same time in `write` per call. A burst of 256 events
 * is written at once; what is still held is written on Nest's application shutdown and by the process's `exit` hook, so no line is lost when the process
 * stops (SIGTERM included).
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

  /**
   * @param out where lines go; tests pass their own. @default process.stdout
   * @param flushIntervalMs how long events are held. @default LOG_FLUSH_INTERVAL_MS
   */
  constructor(
    private readonly out: (lines: string) => void = (lines) => void process.stdout.write(lines),
    private readonly flushIntervalMs = LOG_FLUSH_INTERVAL_MS,
  ) {}

  write(event: LlmEventDocument): void {
    let line: string;
    try {
      line = JSON.stringify(event);
    } catch {
      return; // An unserialisable document is skipped; the others are still written.
    }
    this.lines += `${line}\n`;
    if (++this.held >= MAX_PENDING_EVENTS || this.lines.length >= MAX_HELD_TEXT) {
      this.flush();
      return;
    }
    if (this.timer) return;
    pendingSinks.add(this);
    hookExit();
    this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes the lines of the events held now, if any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    pendingSinks.delete(this);
    const lines = this.lines;
    this.lines = '';
    this.held = 0;
    if (lines === '') return;
    try {
      this.out(lines);
    } catch {
      // A closed or broken stdout must not fail the call that produced the event.
    }
  }

  /** Nest's shutdown (after the drain): what is held is written now. */
  onApplicationShutdown(): void {
    this.flush();
  }
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const sink of [...pendingSinks]) sink.flush();
  });
}
