import { isLlmError, LlmError, LlmIncompleteStreamError } from '../resilience/llm.errors';
import { type CallResponseInfo } from '../call/call-record.types';
import { type ChatCompletionChunk, type LlmCallMetadata } from '../call/chat.types';
import { foldChunk } from './response-info';
import { hasContent, type OpenedStream, toChunk } from './stream-attempt';
import { forgetReceivedJson } from './received-json';

/**
 * Most characters of content text a stream keeps for {@link LlmChatStream.receivedText} and an
 * incomplete stream's `partialText`: twice the longest answer a model gives today (128k output
 * tokens, about half a million characters), so that an upstream streaming without end cannot
 * grow what one stream holds.
 */
export const MAX_RECEIVED_TEXT = 1024 * 1024;

/** What {@link LlmChatStream} needs to start: runs the call up to the first content chunk. */
export type StreamStarter = () => Promise<{ opened: OpenedStream; metadata: LlmCallMetadata }>;

/** How a started stream ended: its error if it failed, and what the chunks said. */
export interface StreamEnding {
  error?: LlmError;
  response: CallResponseInfo;
}

/**
 * The result of {@link LlmClient.chatStream}: an async iterable of OpenAI chunks. The call starts
 * on the first `next()` (or `ready()`); retries happen only before the first content chunk. A
 * failure after content was delivered ends the iteration with {@link LlmIncompleteStreamError}
 * carrying the text received so far — never with a clean end. Breaking out of the loop aborts
 * the upstream request; {@link cancel} does so for a stream that will not be read (or no more).
 *
 * @example
 * const stream = llm.chatStream({ messages });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
 * console.log(stream.metadata?.attempts);
 */
export class LlmChatStream implements AsyncIterable<ChatCompletionChunk> {
  /** The call's start, resolved with its metadata once content arrived. */
  private started?: Promise<LlmCallMetadata>;
  /** The started call's stream, once {@link started} resolved, until the iteration takes it. */
  private opened?: OpenedStream;
  /** The upstream's secrets, masked in the response info (kept: `opened` is let go once read). */
  private secrets: readonly string[] = [];
  private meta?: LlmCallMetadata;
  private iterated = false;
  /** Set when the iteration's body first runs (its first `next()`), not when it is made. */
  private reading = false;
  private text = '';
  /** Characters of content received, kept or not (see {@link MAX_RECEIVED_TEXT}). */
  private textLength = 0;
  private response: CallResponseInfo = { finishReasons: [] };
  /** Why a stream started and never read was ended (see {@link onAbortBeforeReading}). */
  private unread?: LlmError;
  /** The stream the iteration reads, while it reads it: what {@link cancel} aborts. */
  private reader?: OpenedStream;
  /** Set by {@link cancel}. */
  private cancelled = false;
  /** The call's end, once it was reported (resolves when its bulkhead slot is free). */
  private finished?: Promise<void>;

  constructor(
    private readonly start: StreamStarter,
    /** Ends the call; resolves once its bulkhead slot is free. */
    private readonly onFinish: (ending: StreamEnding) => Promise<void>,
    /** Choices the request asked for (`n`): a stream without `[DONE]` is complete when each finished. */
    private readonly choices = 1,
    /** Ends a start still under way, which then rejects with `cancelled` (see {@link cancel}). */
    private readonly cancelStart: () => void = () => undefined,
  ) {}

  /** Call metadata; set once the first content chunk arrived. */
  get metadata(): LlmCallMetadata | undefined {
    return this.meta;
  }

  /** The content text received so far (choice 0), up to its first {@link MAX_RECEIVED_TEXT} characters. */
  get receivedText(): string {
    return this.text;
  }

  /** Starts the call if needed and resolves when content arrived, or rejects with the call's error. */
  ready(): Promise<LlmCallMetadata> {
    // Not `async`: the start's own promise, one turn after the call's start settled rather than
    // three (an async function's await, then its own promise).
    return this.begin();
  }

  /** The call's start, begun at the first ask: one promise, awaited at once by the iteration. */
  private begin(): Promise<LlmCallMetadata> {
    return (this.started ??= startOf(this.start).then((started) => {
      this.meta = started.metadata;
      this.opened = started.opened;
      this.secrets = started.opened.secrets;
      // Started (ready()) and never read: when its idle timeout (or the deadline) aborts the
      // request, the call ends there, and frees its bulkhead slot, instead of at its deadline.
      started.opened.timeout.signal.addEventListener('abort', this.onAbortBeforeReading, {
        once: true,
      });
      return started.metadata;
    }));
  }

  /**
   * Ends the stream without reading it, or the rest of it: the upstream request is closed, the
   * bulkhead slot freed and the call recorded as `cancelled`. For a stream started with
   * `ready()` and then not wanted (a `return()` on its iterator before the first `next()` calls
   * it too), or stopped from outside the loop that reads it: that loop's next step then fails
   * with a `cancelled` error. A start still under way (waiting for budget, an attempt before
   * its first content, a retry's sleep) ends at once, with no further attempt. Resolves once the
   * call has ended (an aborted request gives its slot back as it unwinds, within milliseconds), or
   * at once while a loop holds a chunk (the call ends at its next step). Calling it again, or
   * after the end, does nothing.
   *
   * @example
   * const stream = llm.chatStream({ messages });
   * await stream.ready();
   * if (!stillWanted()) await stream.cancel(); // the slot is free again
   */
  async cancel(): Promise<void> {
    if (this.cancelled) return this.finished;
    this.cancelled = true;
    if (this.started === undefined) {
      // Never started: no call to end. A later ready() or loop gets the cancellation.
      const error = this.cancelledError();
      this.unread = error;
      this.started = Promise.reject(error);
      this.started.catch(() => undefined);
      return;
    }
    // Starting (waiting, retrying, or before its first content): ended now, not after its
    // retries; it rejects with `cancelled`, its slot free.
    if (this.meta === undefined) this.cancelStart();
    await this.started.catch(() => undefined);
    if (this.reading) {
      this.reader?.timeout.abort('consumer_done');
      return;
    }
    this.opened?.timeout.abort('consumer_done'); // onAbortBeforeReading ends the call
    await this.finished;
  }

  /** The `cancelled` error of this stream's call, saying why it ended early. */
  private cancelledError(why = 'The stream was cancelled (cancel()) before its end.'): LlmError {
    const { upstream, model } = this.meta ?? { upstream: '', model: '' };
    return new LlmError('cancelled', why, { upstream, model, attempts: this.meta?.attempts });
  }

  private readonly onAbortBeforeReading = (): void => {
    const opened = this.opened;
    // Made but never stepped (`Readable.from(stream)`) counts as never read: a generator that
    // never ran has no `finally` to end the call.
    if (opened === undefined || this.reading) return;
    this.opened = undefined;
    this.unread = this.cancelled
      ? this.cancelledError()
      : opened.timeout.reason === 'idle_timeout'
        ? this.cancelledError(
            `The stream was started (ready()) and not read within the idle timeout ` +
              `(${opened.idleMs} ms); its upstream request was closed and its slot freed.`,
          )
        : opened.toError(new Error('aborted before the stream was read'));
    opened.timeout.dispose();
    this.finished = this.onFinish({ error: this.unread, response: this.response });
  };

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.iterated) throw new Error('An LlmChatStream can be iterated only once.');
    this.iterated = true;
    const iteration = this.iterate();
    // A generator that never ran has no `finally`: its return() before the first next() (a
    // consumer that gave up, `Readable.from(stream)` destroyed) ends the call here instead.
    const end = iteration.return.bind(iteration);
    iteration.return = async (value) => {
      if (!this.reading) await this.cancel();
      return end(value);
    };
    return iteration;
  }

  private async *iterate(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    this.reading = true;
    let opened: OpenedStream | undefined;
    let finishedCleanly = false;
    let failure: LlmError | undefined;
    try {
      // After ready() (the gateway), the head is at hand: no await, so the first chunk is yielded
      // in the first next(). Otherwise one await, of the start's own promise.
      if (this.opened === undefined && this.unread === undefined) await this.begin();
      // Ended before it was read: that call is over (its end reported), so nothing more here.
      if (this.unread !== undefined) {
        const unread = this.unread;
        this.started = undefined;
        throw unread;
      }
      opened = this.opened!;
      this.reader = opened;
      opened.timeout.signal.removeEventListener('abort', this.onAbortBeforeReading);
      // Held by the iteration from here on, not by the stream object a caller may keep.
      this.opened = undefined;
      // The idle timeout measures the upstream's silence: it runs only while the iteration waits
      // for the upstream's next item, never while the consumer holds a chunk (a slow consumer,
      // or a gateway client reading slowly, is not an upstream gone silent).
      opened.timeout.disarm();
      const finishing = new FinishedChoices(this.choices);
      for (const chunk of opened.head) finishing.see(chunk);
      // Taken out one by one: the head is not held for the rest of the stream.
      for (let chunk = opened.head.shift(); chunk; chunk = opened.head.shift()) {
        if (this.cancelled) throw this.cancelledError();
        if (!opened.usageAdded) yield this.track(chunk);
        else if (isUsageOnly(chunk)) this.track(chunk);
        else yield this.track(withoutAddedUsage(chunk));
      }
      if (!opened.ended) {
        // The rest, read here rather than through a delegated generator (`yield*`), which costs
        // every later chunk a second generator's promises.
        const where = { upstream: this.meta?.upstream ?? '', model: this.meta?.model ?? '' };
        let done = false;
        /** Whether the idle timer runs: from a wait for the upstream to its next data item. */
        let idle = false;
        try {
          for (;;) {
            if (this.cancelled) throw this.cancelledError();
            // An item at hand is taken without a promise's turn (see StreamItemReader.poll).
            let item = opened.items.poll();
            if (item === undefined) {
              if (!idle) opened.timeout.arm('idle_timeout', opened.idleMs);
              idle = true;
              const next = await opened.items.next();
              if (next.done) break;
              item = next.value;
            }
            // Keep-alive comments are not the upstream's answer: the idle timer runs on.
            if (item.type === 'keepalive') continue;
            if (idle) opened.timeout.disarm();
            idle = false;
            if (item.type === 'done') {
              done = true;
              break;
            }
            const chunk = toChunk(item, where, this.meta?.upstreamRequestId, opened.secrets);
            finishing.see(chunk);
            if (opened.usageAdded) {
              if (isUsageOnly(chunk)) {
                this.track(chunk);
                continue;
              }
              withoutAddedUsage(chunk);
            }
            if (hasContent(chunk) || chunk.choices?.length) yield this.track(chunk);
          }
        } catch (error) {
          throw this.incomplete(this.cancelled ? this.cancelledError() : opened.toError(error));
        }
        // The body ended without [DONE]: complete only if every choice said why it finished.
        if (!done && !finishing.all()) {
          throw this.incomplete(
            new LlmError(
              'network',
              `Upstream '${where.upstream}' closed the stream before it finished.`,
              where,
            ),
          );
        }
      }
      finishedCleanly = true;
      // The end of the body, read so the keep-alive socket goes back to the pool for the next
      // call: waited for here a short while (it usually follows [DONE] at once), then read on
      // after the consumer has its end, so a server that keeps the response open after [DONE]
      // does not hold the consumer's last step for the drain's whole second.
      await settledWithin(drain(opened), INLINE_DRAIN_MS);
    } catch (error) {
      if (isLlmError(error)) failure = error;
      throw error;
    } finally {
      if (opened && !finishedCleanly) opened.timeout.abort('consumer_done');
      // A drain still going disposes of the timeout itself.
      if (!finishedCleanly) opened?.timeout.dispose();
      // A consumer that stops early ends the call as cancelled: it did not get the whole answer.
      this.reader = undefined;
      if (this.started) {
        const early = !finishedCleanly && !failure && opened ? this.stoppedEarly() : undefined;
        this.finished = this.onFinish({ error: failure ?? early, response: this.response });
        await this.finished;
      }
    }
  }

  /** A caller's own abort stays `cancelled`; every other late failure is an incomplete stream. */
  private incomplete(cause: LlmError): LlmError {
    // A caller's abort and a shutdown say why the text stopped better than "incomplete" does.
    if (cause.kind === 'cancelled' || cause.kind === 'shutting_down') return cause;
    if (cause instanceof LlmIncompleteStreamError) return cause;
    return new LlmIncompleteStreamError(
      `Stream from upstream '${cause.upstream}' model '${cause.model}' failed after content was delivered ` +
        `(${cause.kind}: ${cause.message}); ${this.textLength} characters arrived. The text is incomplete.`,
      this.text,
      {
        upstream: cause.upstream,
        model: cause.model,
        status: cause.status,
        requestId: this.meta?.upstreamRequestId,
        attempts: this.meta?.attempts,
        cause,
      },
    );
  }

  private stoppedEarly(): LlmError {
    return this.cancelledError('The consumer stopped reading the stream before its end.');
  }

  private track(chunk: ChatCompletionChunk): ChatCompletionChunk {
    // Most chunks add nothing to the response info once its id and model are known: no new
    // object per chunk for those.
    const { response } = this;
    if (
      response.id === undefined ||
      response.model === undefined ||
      chunk.usage ||
      chunk.choices?.some((choice) => choice.finish_reason)
    ) {
      this.response = foldChunk(response, chunk, this.secrets);
    }
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content !== '') {
      this.textLength += content.length;
      const room = MAX_RECEIVED_TEXT - this.text.length;
      if (room > 0) this.text += content.length <= room ? content : content.slice(0, room);
    }
    return chunk;
  }
}

/**
 * The last chunk of a stream that asked for `stream_options.include_usage`: usage, and an empty
 * list of choices.
 */
function isUsageOnly(chunk: ChatCompletionChunk): boolean {
  return Boolean(chunk.usage) && Array.isArray(chunk.choices) && chunk.choices.length === 0;
}

/**
 * A chunk of a stream whose usage the module asked for, as the caller would have got it without:
 * the `"usage": null` OpenAI adds to every chunk then is taken out (the chunk is serialised again
 * when relayed).
 */
function withoutAddedUsage(chunk: ChatCompletionChunk): ChatCompletionChunk {
  if (chunk.usage === null) {
    forgetReceivedJson(chunk);
    delete chunk.usage;
  }
  return chunk;
}

/** The starter's promise; one that throws at once rejects it, as an async function's would. */
function startOf(start: StreamStarter): ReturnType<StreamStarter> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** How long the end of a finished stream may take to arrive before its socket is dropped. */
const DRAIN_MS = 1000;
/** How long of that the consumer's last step waits for it (see {@link settledWithin}). */
const INLINE_DRAIN_MS = 50;

/** Resolves when `work` settles or after `ms`, whichever is first; `work` goes on either way. */
function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Reads what follows `[DONE]` (the end of the chunked body) so the keep-alive socket goes back to
 * the pool instead of being left half-read. A server that keeps the response open after `[DONE]`
 * gets its socket closed: the answer is complete either way.
 */
async function drain(opened: OpenedStream): Promise<void> {
  opened.timeout.arm('consumer_done', DRAIN_MS);
  try {
    for (let next = await opened.items.next(); !next.done; next = await opened.items.next());
  } catch {
    opened.timeout.abort('consumer_done');
  } finally {
    opened.timeout.dispose();
  }
}

/**
 * Which choices said why they finished. A stream of `n` choices is complete when each did: one
 * choice's `finish_reason` says nothing of the others'. Choices are counted by their `index`
 * (bounded: a choice index past {@link MAX_TRACKED_CHOICES} is counted as one).
 */
class FinishedChoices {
  private readonly seen = new Set<number>();
  private readonly finished = new Set<number>();

  /** @param expected the choices asked for (`n`): one that never came is not finished either */
  constructor(private readonly expected: number) {}

  see(chunk: ChatCompletionChunk): void {
    const choices = chunk.choices;
    if (!choices) return;
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i]!;
      const index = Number.isInteger(choice.index)
        ? Math.min(Math.max(0, choice.index), MAX_TRACKED_CHOICES)
        : i;
      this.seen.add(index);
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        this.finished.add(index);
      }
    }
  }

  /** Whether every choice asked for, and every choice seen, finished. */
  all(): boolean {
    const wanted = Math.max(1, Math.min(this.expected, MAX_TRACKED_CHOICES), this.seen.size);
    return this.finished.size >= wanted;
  }
}

/** Choice indexes told apart when checking that each finished (OpenAI allows `n` up to 128). */
const MAX_TRACKED_CHOICES = 128;
