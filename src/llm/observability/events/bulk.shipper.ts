import type { Client } from '@elastic/elasticsearch';
import { type Logger } from '@nestjs/common';
import {
  describeRequestError,
  isRetryableRequestError,
  readBulkResponse,
} from './bulk-response.reader';
import { printableNode, SHIPPER_REQUEST_OPTIONS, withoutTracing } from './elasticsearch.client';
import { type BufferedEvent, type EventBuffer } from './event.buffer';
import { type EventDeliveryReporter } from './event-delivery.reporter';
import { type ResolvedElasticsearchEvents } from './llm-events.options';

/**
 * The longest pause between two bulk attempts while the cluster fails or throttles: shipping
 * resumes within this after Elasticsearch answers again.
 */
export const MAX_FLUSH_BACKOFF_MS = 10_000;

/**
 * Sends buffered events with the bulk API, one request at a time, as `create` actions into the
 * data stream. Items the cluster pushes back on (429, 5xx) and batches of a failed request
 * (unreachable, timeout) go back to the front of the buffer, and the next attempt waits a
 * doubling delay; items refused for good (mapping errors) and requests refused for good (401,
 * 403, 413) are dropped and counted. Each event's `event.id` is its `_id`, so a batch resent
 * after a timeout that did reach the cluster is not indexed twice (409, counted as delivered).
 */
export class BulkShipper {
  private inFlight?: Promise<void>;
  private controller?: AbortController;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly client: Client,
    private readonly options: ResolvedElasticsearchEvents,
    private readonly buffer: EventBuffer,
    private readonly reporter: EventDeliveryReporter,
    private readonly logger: Pick<Logger, 'log' | 'warn'>,
  ) {}

  /** Sends the oldest events unless a bulk is in flight (its promise) or a backoff runs. */
  /** Whether a bulk may be sent now: none in flight, no backoff running. */
  get ready(): boolean {
    return this.inFlight === undefined && Date.now() >= this.retryAt;
  }

  flush(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.buffer.queued === 0 || Date.now() < this.retryAt) return Promise.resolve();
    return this.send();
  }

  /**
   * Shutdown: sends bulk after bulk, ignoring the backoff, until the buffer is empty, the
   * cluster fails or pushes back, or `deadline` (epoch ms) passes.
   */
  async drain(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      if (this.inFlight) {
        await beforeDeadline(this.inFlight, deadline);
        continue;
      }
      if (this.buffer.queued === 0) return;
      const failuresBefore = this.failures;
      await beforeDeadline(this.send(deadline - Date.now()), deadline);
      if (this.failures > failuresBefore) return;
    }
  }

  /** Aborts the bulk in flight, if any, and waits until its batch is settled. */
  async abort(): Promise<void> {
    this.controller?.abort();
    await this.inFlight;
  }

  private send(timeoutMs?: number): Promise<void> {
    const batch = this.buffer.take(this.options.maxBulkEvents);
    const controller = new AbortController();
    this.controller = controller;
    this.inFlight = this.ship(batch, controller.signal, timeoutMs).finally(() => {
      this.inFlight = undefined;
      this.controller = undefined;
    });
    return this.inFlight;
  }

  private async ship(
    batch: BufferedEvent[],
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<void> {
    let retry: BufferedEvent[] = [];
    try {
      const operations = batch.flatMap((event) => [
        event.id ? `{"create":{"_id":${JSON.stringify(event.id)}}}` : '{"create":{}}',
        event.line,
      ]);
      const requestOptions = {
        ...SHIPPER_REQUEST_OPTIONS,
        signal,
        ...(timeoutMs === undefined ? {} : { requestTimeout: Math.max(1, timeoutMs) }),
      };
      const response = await withoutTracing(() =>
        this.client.bulk({ index: this.options.dataStream, operations }, requestOptions),
      );
      const outcome = readBulkResponse(batch, response);
      this.reporter.exported(outcome.accepted);
      for (const [type, count] of outcome.rejected) this.reporter.dropped('rejected', count, type);
      retry = outcome.retry;
      if (retry.length === 0) this.recovered();
      // Some items got in: the cluster is working, so the backoff starts over instead of
      // staying at its cap until a whole bulk succeeds.
      else if (outcome.accepted > 0) this.progressed();
      else this.backOff(`${retry.length} item(s) pushed back (429/5xx)`);
    } catch (error) {
      if (isRetryableRequestError(error)) {
        retry = batch;
        this.backOff(describeRequestError(error));
      } else {
        this.reporter.dropped('rejected', batch.length, describeRequestError(error));
      }
    } finally {
      this.buffer.settle(batch, retry);
    }
  }

  private backOff(reason: string): void {
    this.failures++;
    const delay = Math.min(
      this.options.flushIntervalMs * 2 ** (this.failures - 1),
      MAX_FLUSH_BACKOFF_MS,
    );
    this.retryAt = Date.now() + delay;
    if (this.failures === 1) {
      this.logger.warn(
        `Elasticsearch at ${printableNode(this.options.node)} is not taking events (${reason}); ` +
          `keeping up to ${this.options.maxBufferedEvents} in memory and retrying with backoff. ` +
          `LLM calls are unaffected.`,
      );
    }
  }

  /** Partial success: the next bulk goes after one flush interval, without a new warning. */
  private progressed(): void {
    this.failures = Math.min(this.failures, 1);
    this.retryAt = Date.now() + this.options.flushIntervalMs;
  }

  private recovered(): void {
    if (this.failures > 0) {
      this.logger.log('Elasticsearch takes events again; shipping what was buffered.');
    }
    this.failures = 0;
    this.retryAt = 0;
  }
}

/** Waits for `promise`, or until `deadline` (epoch ms), whichever comes first. */
async function beforeDeadline(promise: Promise<void>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
