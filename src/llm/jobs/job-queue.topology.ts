import type { Options } from 'amqplib';

/**
 * Delay buckets, ms. A delayed job goes to the smallest bucket at least as long as its wait: one
 * queue per bucket, each with its own message TTL, because RabbitMQ only expires the message at
 * the head of a queue (per-message TTLs of different lengths in one queue would make a short wait
 * stuck behind a long one). A wait longer than the last bucket takes several rounds.
 */
export const DELAY_BUCKETS_MS = [
  250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000,
  3_600_000,
] as const;

/** The queues of one job queue name: the work queue, its delay buckets and its dead letters. */
export class JobQueueTopology {
  constructor(readonly queue: string) {}

  /** Jobs that failed `maxDeliveries` times, with their last error in the headers. */
  get deadLetterQueue(): string {
    return `${this.queue}.dead`;
  }

  /** The delay queue for a wait of `waitMs`: the first bucket at least that long. */
  delayQueue(waitMs: number): { name: string; ttlMs: number } {
    const ttlMs = DELAY_BUCKETS_MS.find((bucket) => bucket >= waitMs) ?? DELAY_BUCKETS_MS.at(-1)!;
    return { name: `${this.queue}.delay.${ttlMs}`, ttlMs };
  }

  /** Durable classic queue: persistent messages in it survive a broker restart. */
  workQueueOptions(): Options.AssertQueue {
    return { durable: true, arguments: { 'x-queue-type': 'classic' } };
  }

  deadLetterQueueOptions(): Options.AssertQueue {
    return { durable: true, arguments: { 'x-queue-type': 'classic' } };
  }

  /** No consumer: messages expire after the bucket's TTL and are dead-lettered to the work queue. */
  delayQueueOptions(ttlMs: number): Options.AssertQueue {
    return {
      durable: true,
      arguments: {
        'x-queue-type': 'classic',
        'x-message-ttl': ttlMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': this.queue,
      },
    };
  }
}
