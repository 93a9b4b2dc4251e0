/** One serialized event waiting to be shipped. */
export interface BufferedEvent {
  /** The bulk `_id` (the event's `event.id`), so a resent event is not indexed twice. */
  id?: string;
  /** The document as one JSON line. */
  line: string;
  /** UTF-8 size of `line`. */
  bytes: number;
}

/**
 * Events held in memory while they wait for, or ride in, a bulk request: bounded by count and
 * by bytes, in-flight events included, so a requeued batch always fits back. When full, the
 * newest event is refused: the queued ones are older and show how an incident began, and
 * refusing is O(1) on the caller's path.
 */
export class EventBuffer {
  private queue: BufferedEvent[] = [];
  private queuedBytes = 0;
  private sendingCount = 0;
  private sendingBytes = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  /** Events waiting for a bulk request. */
  get queued(): number {
    return this.queue.length;
  }

  /** Events held in total: waiting plus in flight. */
  get size(): number {
    return this.queue.length + this.sendingCount;
  }

  /** Bytes held in total: waiting plus in flight. */
  get bytes(): number {
    return this.queuedBytes + this.sendingBytes;
  }

  /** Adds an event; false (and nothing kept) when it does not fit. */
  push(event: BufferedEvent): boolean {
    if (this.size >= this.maxEvents || this.bytes + event.bytes > this.maxBytes) return false;
    this.queue.push(event);
    this.queuedBytes += event.bytes;
    return true;
  }

  /** Takes up to `count` of the oldest events for a bulk request; they stay counted until settled. */
  take(count: number): BufferedEvent[] {
    const batch = this.queue.splice(0, count);
    const bytes = sum(batch);
    this.queuedBytes -= bytes;
    this.sendingCount += batch.length;
    this.sendingBytes += bytes;
    return batch;
  }

  /** Ends a taken batch: `retry` (a part of it) goes back to the front, the rest is released. */
  settle(batch: readonly BufferedEvent[], retry: readonly BufferedEvent[] = []): void {
    this.sendingCount -= batch.length;
    this.sendingBytes -= sum(batch);
    this.queue.unshift(...retry);
    this.queuedBytes += sum(retry);
  }

  /** Empties the queue (not the batches in flight) and returns what it held. */
  clear(): BufferedEvent[] {
    const all = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    return all;
  }
}

function sum(events: readonly BufferedEvent[]): number {
  return events.reduce((total, event) => total + event.bytes, 0);
}
