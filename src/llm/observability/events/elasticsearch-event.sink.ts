import type { Client } from '@elastic/elasticsearch';
import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import { BulkShipper } from './bulk.shipper';
import { createElasticsearchClient } from './elasticsearch.client';
import { ElasticsearchTemplateInstaller } from './elasticsearch-template.installer';
import { type BufferedEvent, EventBuffer } from './event.buffer';
import { EventDeliveryReporter } from './event-delivery.reporter';
import { type LlmEventDocument } from './llm-event.fields';
import { type LlmEventSink } from './llm-event.sink';
import { type ResolvedElasticsearchEvents } from './llm-events.options';

/**
 * Ships business events to an Elasticsearch data stream in the background.
 *
 * `write` only serializes the event into a bounded buffer (count and bytes): a slow, throttling
 * or dead cluster never slows or fails an LLM call or a request. The buffer is flushed every
 * `flushIntervalMs`, or as soon as a bulk's worth is waiting, with at most one bulk request in
 * flight; what the cluster pushes back on is kept for the next flush, what overflows is dropped
 * and counted. On shutdown the buffer is flushed within `shutdownTimeoutMs`, then the client
 * closes.
 */
export class ElasticsearchEventSink implements LlmEventSink, OnModuleInit, OnApplicationShutdown {
  private readonly buffer: EventBuffer;
  private readonly shipper: BulkShipper;
  private readonly installer: ElasticsearchTemplateInstaller;
  private timer?: NodeJS.Timeout;
  private flushScheduled = false;
  private closed = false;
  /** Starts a flush in the sink's own async context, not in the request that wrote the event. */
  private readonly flushDetached: () => void;

  constructor(
    private readonly options: ResolvedElasticsearchEvents,
    private readonly client: Client = createElasticsearchClient(options),
    private readonly reporter = new EventDeliveryReporter(),
    logger: Pick<Logger, 'log' | 'warn'> = new Logger('LlmEvents'),
  ) {
    this.buffer = new EventBuffer(options.maxBufferedEvents, options.maxBufferedBytes);
    this.installer = new ElasticsearchTemplateInstaller(client, options, logger);
    this.shipper = new BulkShipper(client, options, this.buffer, reporter, logger);
    this.flushDetached = AsyncResource.bind(() => {
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      }).unref();
    });
  }

  onModuleInit(): void {
    // Idempotent: Nest calls the hook once per token, and this instance may also be the
    // LlmEventSink.
    if (this.timer) return;
    this.installer.start();
    this.timer = setInterval(() => {
      void this.flush();
      this.reporter.warnIfDue();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  write(event: LlmEventDocument): void {
    if (this.closed) return this.reporter.dropped('shutdown', 1);
    let line: string;
    try {
      line = JSON.stringify(event);
    } catch {
      return this.reporter.dropped('unserializable', 1);
    }
    const id = event['event.id'];
    const buffered: BufferedEvent = {
      ...(typeof id === 'string' ? { id } : {}),
      line,
      bytes: Buffer.byteLength(line),
    };
    if (!this.buffer.push(buffered)) return this.reporter.dropped('buffer_full', 1);
    if (
      this.buffer.queued >= this.options.maxBulkEvents &&
      !this.flushScheduled &&
      this.installer.settled
    ) {
      this.flushScheduled = true;
      this.flushDetached();
    }
  }

  /**
   * Sends one bulk of the oldest buffered events, unless one is in flight (then its promise),
   * the templates are not settled yet, or the shipper is backing off. Never rejects.
   */
  flush(): Promise<void> {
    if (!this.installer.settled) return Promise.resolve();
    return this.shipper.flush().then(() => this.flushOnIfBacklog());
  }

  /**
   * After a bulk, the next one at once while a whole bulk's worth waits (a backlog left by an
   * outage, with no new events to start a flush): it drained one bulk per `flushIntervalMs`.
   */
  private flushOnIfBacklog(): void {
    if (
      !this.closed &&
      !this.flushScheduled &&
      this.shipper.ready &&
      this.buffer.queued >= this.options.maxBulkEvents
    ) {
      this.flushScheduled = true;
      this.flushDetached();
    }
  }

  /** Events held in memory (waiting or in flight). */
  get buffered(): number {
    return this.buffer.size;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.installer.stop();
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    const left = () => deadline - Date.now();
    try {
      if (this.buffer.size > 0 && left() > 0 && (await this.installer.attempt(deadline))) {
        await this.shipper.drain(deadline);
      }
    } finally {
      // Out of time: what is still in flight or waiting is lost, and counted as such.
      await this.shipper.abort();
      this.reporter.dropped('shutdown', this.buffer.size);
      this.buffer.clear();
      this.reporter.warnIfDue(true);
      await this.client.close().catch(() => undefined);
    }
  }
}
