/** Writes kept while Redis is down, at most; one more is dropped (and counted). */
export const MAX_DEFERRED_WRITES = 10_000;

/**
 * State writes that could not reach Redis, kept in memory (bounded) and replayed in order when it
 * is back. Only first writes of new jobs go here: their `create` mode never moves a job back, so
 * a late replay cannot undo what a worker wrote meanwhile.
 */
export class DeferredWritesBuffer {
  private readonly writes: Array<() => Promise<unknown>> = [];

  constructor(private readonly report: (outcome: 'deferred' | 'dropped') => void) {}

  /** Writes waiting for Redis. */
  get size(): number {
    return this.writes.length;
  }

  /** Keeps `write` for later; false (and counted as dropped) when the buffer is full. */
  keep(write: () => Promise<unknown>): boolean {
    if (this.writes.length >= MAX_DEFERRED_WRITES) {
      this.report('dropped');
      return false;
    }
    this.writes.push(write);
    this.report('deferred');
    return true;
  }

  /** Replays every kept write; those that fail again stay for the next time. Returns those written. */
  async flush(): Promise<number> {
    const writes = this.writes.splice(0);
    let written = 0;
    for (const write of writes) {
      try {
        await write();
        written++;
      } catch {
        this.writes.push(write);
      }
    }
    return written;
  }
}
