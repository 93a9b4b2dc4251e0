import type { Readable } from 'node:stream';
import { type SseEvent, SseParser } from './sse-parser';
import { MAX_ANSWER_DEPTH, nestsDeeperThan } from './json-depth.scan';

/** One thing read from an OpenAI-style SSE stream. */
export type StreamItem =
  /** A `: comment` line: keep-alive. */
  | { type: 'keepalive' }
  /** `data: [DONE]`: the provider finished the stream. */
  | { type: 'done' }
  /**
   * Any other `data:` payload, parsed; `json` is undefined when it was not JSON, or nested too
   * deep to be parsed (`tooDeep`).
   */
  | { type: 'data'; raw: string; json: unknown; tooDeep?: true };

/** The items of a response body, one `next()` at a time, as an async iterator's. */
export interface StreamItemReader {
  next(): Promise<IteratorResult<StreamItem, void>>;
  /**
   * The next item when one is at hand (parsed from what the body already gave), without a
   * promise; `undefined` when there is none yet, or the body ended or failed: `next()` then says
   * which. A reader's loop asks this first and awaits `next()` only when it must wait, so the
   * items of one read are handed out without a promise and a microtask turn each.
   */
  poll(): StreamItem | undefined;
  /**
   * While set: an item handed to a waiting `next()` that this returns true for, when no other
   * parsed item waits, does not pause the body, so the rest of the same read is parsed at once,
   * up to the next item (then it pauses as usual). A stream's opening sets it for what comes
   * before the first content (role chunk, keep-alives), whose reader asks on at once anyway:
   * the first content of a read is then at hand for `poll()` when the role chunk is taken,
   * instead of a tick and a read later.
   */
  readOn?: (item: StreamItem) => boolean;
}

/**
 * Decodes a response body into SSE items as they arrive. The body is read only while its items
 * are asked for: once a read chunk's events wait for the reader, the body is paused, so a
 * consumer that stops asking (a slow client behind the gateway) stops the upstream read, and
 * what waits here is at most one read chunk's events plus the body's own buffer (its high water
 * mark), with the parser's partial line and event bounded by `MAX_SSE_LINE_LENGTH`.
 *
 * An error of the body, or its close before its end, fails the next `next()`; a parse error
 * (a line past the maximum) also destroys the body.
 */
export function readStreamItems(body: Readable): StreamItemReader {
  return new SseItemReader(body);
}

const DONE: IteratorResult<StreamItem, void> = { done: true, value: undefined };

/**
 * A hand-written reader rather than an async generator over the body's async iterator: per
 * stream it holds one object and four listeners instead of two generators, the stream's async
 * iterator, its end-of-stream watcher and their promises, which a thousand streams held open
 * notice.
 */
class SseItemReader implements StreamItemReader {
  private readonly decoder = new TextDecoder();
  private readonly parser = new SseParser();
  /** Events parsed and not yet handed out, from {@link index} on. */
  private events: SseEvent[] = [];
  private index = 0;
  private ended = false;
  private failure: Error | undefined = undefined;
  readOn?: (item: StreamItem) => boolean = undefined;
  private waiter?: {
    resolve: (result: IteratorResult<StreamItem, void>) => void;
    reject: (error: Error) => void;
  };

  constructor(private readonly body: Readable) {
    body.on('data', (chunk: Buffer) => this.take(this.decoder.decode(chunk, { stream: true })));
    body.once('end', () => {
      if (!this.take(this.decoder.decode())) return;
      this.parser.end();
      this.ended = true;
      this.settle();
    });
    body.once('error', (error: unknown) => this.fail(error));
    body.once('close', () => {
      if (!this.ended) this.fail(prematureClose());
    });
  }

  next(): Promise<IteratorResult<StreamItem, void>> {
    if (this.waiter) return Promise.reject(new Error('readStreamItems: one next() at a time'));
    const item = this.shift();
    if (item) return Promise.resolve({ done: false, value: item });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.body.resume();
    });
  }

  poll(): StreamItem | undefined {
    return this.waiter ? undefined : this.shift();
  }

  /** Parses text into waiting events; false when it failed the stream. */
  private take(text: string): boolean {
    let events: SseEvent[];
    try {
      events = this.parser.push(text);
    } catch (error) {
      this.fail(error);
      this.body.destroy();
      return false;
    }
    if (events.length === 0) return true;
    if (this.index >= this.events.length) {
      this.events = events;
      this.index = 0;
    } else {
      for (const event of events) this.events.push(event);
    }
    const handed = this.settle();
    // Read no further until these are asked for (see readOn for the one exception).
    if (handed === undefined || this.index < this.events.length || !this.readOn?.(handed)) {
      this.body.pause();
    }
    return true;
  }

  /** Hands the next item, the end or the failure to a waiting `next()`; returns the item. */
  private settle(): StreamItem | undefined {
    const waiter = this.waiter;
    if (!waiter) return undefined;
    const item = this.shift();
    if (item) {
      this.waiter = undefined;
      waiter.resolve({ done: false, value: item });
      return item;
    } else if (this.failure !== undefined) {
      this.waiter = undefined;
      waiter.reject(this.failure);
    } else if (this.ended) {
      this.waiter = undefined;
      waiter.resolve(DONE);
    }
    return undefined;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.ended) return;
    // Whatever the body was destroyed with; classified by its code like any transport error.
    this.failure = (error ?? prematureClose()) as Error;
    // What was parsed before the failure is still handed out first, as a read would have.
    this.settle();
  }

  private shift(): StreamItem | undefined {
    if (this.index >= this.events.length) return undefined;
    const event = this.events[this.index++]!;
    if (this.index === this.events.length) {
      this.events = [];
      this.index = 0;
    }
    return toItem(event);
  }
}

/** The error Node's own stream readers give for a body closed before its end. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function toItem(event: SseEvent): StreamItem {
  if (event.type === 'comment') return { type: 'keepalive' };
  if (event.data.trim() === '[DONE]') return { type: 'done' };
  // A chunk nested deeper than any chunk is left unparsed: the stream's reader fails it as an
  // invalid response (JSON.parse of such a line held the event loop).
  if (nestsDeeperThan(event.data, MAX_ANSWER_DEPTH)) {
    return { type: 'data', raw: event.data, json: undefined, tooDeep: true };
  }
  let json: unknown;
  try {
    json = JSON.parse(event.data);
  } catch {
    json = undefined;
  }
  return { type: 'data', raw: event.data, json };
}
