/**
 * One item of an event stream: a dispatched event, or a comment line (`: keep-alive`), which
 * the spec says to ignore but which callers may count as a sign of life between chunks.
 */
export type SseEvent =
  | {
      type: 'event';
      /** The `event:` field; absent for the default type (a browser would call it `message`). */
      event?: string;
      /** The `data:` lines joined with `\n`. */
      data: string;
      /** The last `id:` seen on the stream so far (it carries over to later events, per spec). */
      id?: string;
    }
  | { type: 'comment'; text: string };

const LINE_BREAK = /\r\n|\r|\n/g;

/** Longest line the parser holds: an OpenAI chunk is a few KiB, even with logprobs. */
export const MAX_SSE_LINE_LENGTH = 1024 * 1024;

/**
 * Code of the error {@link SseParser.push} throws for a line longer than its maximum, or for an
 * event whose `data:` lines together are longer than it.
 */
export const SSE_LINE_TOO_LONG = 'ERR_SSE_LINE_TOO_LONG';

/**
 * An incremental parser of `text/event-stream`, following the WHATWG HTML standard, section
 * 9.2.6 "Interpreting an event stream". It takes text (decode bytes with
 * `new TextDecoder()` and `decode(chunk, { stream: true })`) and returns the events each chunk
 * completes. Line breaks may be `\n`, `\r\n` or `\r`, and may be split across chunks.
 *
 * The `retry:` field is ignored: LLM streams are never resumed, so a reconnection time has no use.
 *
 * @example
 * const parser = new SseParser();
 * const decoder = new TextDecoder();
 * for await (const bytes of response) {
 *   for (const event of parser.push(decoder.decode(bytes, { stream: true }))) {
 *     if (event.type === 'event' && event.data !== '[DONE]') handle(JSON.parse(event.data));
 *   }
 * }
 * parser.end();
 */
export class SseParser {
  /**
   * Text after the last line break seen, waiting for the rest of its line, in the pieces it came
   * in: joined once the line ends, so a long line costs its length once, not once per chunk.
   */
  private pending: string[] = [];
  private pendingLength = 0;
  /** The previous chunk ended in `\r`: a `\n` opening the next chunk belongs to that break. */
  private afterCr = false;
  private started = false;
  private data: string[] = [];
  /** Characters of {@link data}, line breaks between its lines included. */
  private dataLength = 0;
  private eventType = '';
  private lastEventId = '';

  /**
   * @param maxLineLength longest line accepted, and longest data of one event (its `data:` lines
   *   joined): {@link push} throws past either, so what the parser holds for a stream that never
   *   ends its line or its event stays under about twice this many characters
   */
  constructor(private readonly maxLineLength = MAX_SSE_LINE_LENGTH) {}

  /**
   * Feeds the next piece of text.
   *
   * @returns the events and comments whose lines this chunk completed, in stream order
   * @throws Error with code `ERR_SSE_LINE_TOO_LONG` when a line, or the data of one event,
   *   exceeds the maximum length
   */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.afterCr && text !== '') {
      this.afterCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    if (!this.started && text !== '') {
      this.started = true;
      // The spec ignores one leading BOM; TextDecoder strips it too, unless told not to.
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    const out: SseEvent[] = [];
    let start = 0;
    // Only the new text is scanned: the pending start of a line has no line break in it.
    if (!text.includes('\r')) {
      // Line feeds only (what providers send): found with indexOf, no regular expression, no
      // match object per line.
      for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', start)) {
        this.processLine(this.takeLine(text.slice(start, lf)), out);
        start = lf + 1;
      }
    } else {
      for (const match of text.matchAll(LINE_BREAK)) {
        // A `\r` at the very end may be the first half of a `\r\n` the next chunk completes.
        if (match[0] === '\r' && match.index === text.length - 1) this.afterCr = true;
        this.processLine(this.takeLine(text.slice(start, match.index)), out);
        start = match.index + match[0].length;
      }
    }
    const rest = text.slice(start);
    if (rest !== '') {
      this.pending.push(rest);
      this.pendingLength += rest.length;
    }
    if (this.pendingLength > this.maxLineLength) {
      this.pending = [];
      this.pendingLength = 0;
      throw tooLong(`An event-stream line is longer than ${this.maxLineLength} characters`);
    }
    return out;
  }

  /**
   * Ends the stream. Per spec, "if the file ends in the middle of an event, before the final
   * empty line, the incomplete event is not dispatched": an event without its blank line, or a
   * last line without its line break, is discarded, so nothing is ever returned. A server that
   * cut a stream short is found by what is missing (`data: [DONE]`, a `finish_reason`), not here.
   * The parser is reset and may be reused.
   *
   * @returns always empty; an array so that callers can treat it like {@link push}
   */
  end(): SseEvent[] {
    this.pending = [];
    this.pendingLength = 0;
    this.afterCr = false;
    this.started = false;
    this.data = [];
    this.dataLength = 0;
    this.eventType = '';
    this.lastEventId = '';
    return [];
  }

  /** The pending start of the line, if any, joined with its end. */
  private takeLine(end: string): string {
    if (this.pending.length === 0) return end;
    const line = this.pending.join('') + end;
    this.pending = [];
    this.pendingLength = 0;
    return line;
  }

  private processLine(line: string, out: SseEvent[]): void {
    if (line === '') return this.dispatch(out);
    if (line.startsWith(':')) {
      out.push({ type: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.pushData(value);
    else if (field === 'event') this.eventType = value;
    // An id containing NUL is ignored, per spec; an empty id resets the last event id.
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
  }

  /** Adds a `data:` line; an event's data is bounded like a line, or `data:` lines without end would grow. */
  private pushData(value: string): void {
    this.dataLength += value.length + (this.data.length > 0 ? 1 : 0);
    if (this.dataLength > this.maxLineLength) {
      this.data = [];
      this.dataLength = 0;
      throw tooLong(
        `The data of an event-stream event is longer than ${this.maxLineLength} characters`,
      );
    }
    this.data.push(value);
  }

  private dispatch(out: SseEvent[]): void {
    const { data, eventType, lastEventId } = this;
    this.data = [];
    this.dataLength = 0;
    this.eventType = '';
    // Per spec, a block without any `data:` line (only `event:` or `id:`) dispatches nothing.
    if (data.length === 0) return;
    // Built in place: no spread objects for the optional fields.
    const event: SseEvent = { type: 'event', data: data.length === 1 ? data[0]! : data.join('\n') };
    if (eventType !== '') event.event = eventType;
    if (lastEventId !== '') event.id = lastEventId;
    out.push(event);
  }
}

function tooLong(message: string): Error {
  return Object.assign(new Error(message), { code: SSE_LINE_TOO_LONG });
}
