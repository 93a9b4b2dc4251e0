import type { ChatCompletionRequest, LlmCallMetadata, LlmCallOptions } from '../call/chat.types';
import { unwatchAbort, watchAbort } from '../resilience/abort-link';
import type { LlmError } from '../resilience/llm.errors';
import type { LlmHttpTransport } from '../transport/llm-http.transport';
import { callMetadata } from './call-metadata';
import type { CallLifecycle } from './call-lifecycle';
import type { CallPath } from './call-path';
import { type OpenCall, type SlotHold, whereOf } from './llm-call';
import type { StreamEnding } from './llm-chat-stream';
import { chatAttemptInput } from './send-chat-request';
import { type OpenedStream, openStreamAttempt } from './stream-attempt';

/**
 * One streaming call's life, behind an {@link LlmChatStream}. It opens when the stream is first
 * read, runs down the call path up to the first content chunk (retries and fallbacks apply until
 * then), then keeps its bulkhead slot and deadline until the consumer is done or the deadline
 * passes. It ends one of two ways: failed before content ({@link start} rejects), or held to its
 * end ({@link SlotHold.ended}); either way {@link CallLifecycle.close} ends it once.
 */
export class StreamCall {
  /** Settled by {@link finish}: how the consumer's reading ended. */
  private readonly readingEnded = new Latch<StreamEnding>();
  /** Settled once the call holds no bulkhead slot any more. */
  private readonly slotFree = new Latch<void>();
  /** Whether the run that delivered content holds a slot worth waiting for. */
  private holdsSlot = false;
  /** The open call's deadline, while it starts: what {@link cancel} aborts. */
  private starting?: OpenCall['deadline'];
  private cancelled = false;

  constructor(
    private readonly lifecycle: CallLifecycle,
    private readonly path: CallPath,
    private readonly transport: LlmHttpTransport,
    private readonly request: ChatCompletionRequest,
    private readonly options: LlmCallOptions,
  ) {}

  /** Opens the call and runs it up to its first content chunk. */
  async start(): Promise<{ opened: OpenedStream; metadata: LlmCallMetadata }> {
    let call: OpenCall;
    try {
      call = this.lifecycle.open(this.request, this.options, true);
    } catch (error) {
      this.slotFree.settle();
      throw error;
    }
    this.starting = call.deadline;
    if (this.cancelled) call.deadline.cancel();
    try {
      const opened = await this.path.run({
        ...call,
        attempt: (context) =>
          openStreamAttempt(chatAttemptInput(this.transport, this.request, true, context)),
        hold: this.holdFor(call),
      });
      return { opened, metadata: callMetadata(call.record) };
    } catch (error) {
      this.lifecycle.close(call, error);
      this.slotFree.settle();
      throw error;
    } finally {
      this.starting = undefined;
    }
  }

  /**
   * Ends a start still under way (a wait, an attempt, a retry's sleep) as its caller's abort
   * would: {@link start} then rejects with `cancelled`, its slot free. Once started, the stream's
   * own reading ends the call.
   */
  cancel(): void {
    this.cancelled = true;
    this.starting?.cancel();
  }

  /** The consumer is done reading; resolves once the call's bulkhead slot is free. */
  finish(ending: StreamEnding): Promise<void> {
    this.readingEnded.settle(ending);
    return this.slotFree.promise;
  }

  /** How the stream holds its slot: until the consumer is done, or the deadline passes. */
  private holdFor(call: OpenCall): SlotHold<OpenedStream> {
    const { record, deadline } = call;
    return {
      // Whichever comes first: the consumer's end, or the deadline. One promise, and the deadline
      // watched through its own link (no AbortSignal listener, unlinked at the consumer's end).
      until: () => {
        this.holdsSlot = true;
        const { signal } = deadline;
        return new Promise<LlmError | undefined>((resolve) => {
          const onAbort = (): void => resolve(deadline.abortError(whereOf(record)));
          void this.readingEnded.promise.then(({ error, response }) => {
            // Also once the deadline won: the record says what the consumer got.
            record.response = response;
            unwatchAbort(signal, onAbort);
            resolve(error);
          });
          // After a reading that already ended, as when both raced: that one wins.
          if (signal.aborted) void Promise.resolve().then(onAbort);
          else watchAbort(signal, onAbort);
        });
      },
      ended: (error) => this.lifecycle.close(call, error),
      released: () => {
        if (this.holdsSlot) this.slotFree.settle();
      },
    };
  }
}

/**
 * A promise settled from outside, once. The promise is made at the first ask, not up front: a
 * stream asks for its slot's release only at its end, so an open stream holds no promise and
 * resolver for it, and a call pays for none before its upstream request.
 */
class Latch<T> {
  private made?: Promise<T>;
  /** Set while the promise waits: settle() resolves it once, then drops it. */
  private resolve?: (value: T) => void;

  get promise(): Promise<T> {
    return (this.made ??= new Promise<T>((resolve) => (this.resolve = resolve)));
  }

  settle(value: T): void {
    if (this.made === undefined) {
      // Settled before anyone asked: the promise is made settled.
      this.made = Promise.resolve(value);
      return;
    }
    this.resolve?.(value);
    this.resolve = undefined;
  }
}
