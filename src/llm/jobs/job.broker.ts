import { Logger } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  RecoveringChannelModel,
} from 'amqplib';
import { loadOptionalPeer } from '../optional-peer';
import { brokerUnavailable } from './llm-jobs.errors';
import { type JobQueueTopology } from './job-queue.topology';

/** How long the boot waits for the first connection before it goes on without one. */
const FIRST_CONNECT_WAIT_MS = 5_000;

/**
 * How long closing the consumer channel, and then the connection, waits for the broker's answer.
 * amqplib settles a close only when the broker answers it: a broker that dies or hangs mid-close
 * left the close pending for ever, and the process with it.
 */
const CLOSE_TIMEOUT_MS = 2_000;

/** A consumer of the work queue: resolves when the message may be acked (or was handled). */
export type JobDeliveryHandler = (message: ConsumeMessage, channel: Channel) => Promise<void>;

/**
 * The RabbitMQ side of jobs, through amqplib with its automatic recovery: a confirm channel for
 * publishing (a publish resolves only once the broker has the message on disk, as a persistent
 * message in a durable queue), and, for a worker, a consumer channel with a bounded prefetch.
 * After a reconnect both are opened again and the topology declared again.
 */
export class JobBroker {
  private readonly logger = new Logger('LlmJobs');
  private connection?: RecoveringChannelModel;
  /** The connection of now (amqplib's recovery opens a new one after each loss). */
  private model?: ChannelModel;
  private publisher?: ConfirmChannel;
  private consumer?: { handler: JobDeliveryHandler; prefetch: number; channel?: Channel };
  private readonly declaredDelays = new Set<string>();
  private closing = false;

  constructor(
    private readonly url: string,
    readonly topology: JobQueueTopology,
  ) {}

  /** Whether a publish can be confirmed now. */
  get ready(): boolean {
    return this.publisher !== undefined;
  }

  /**
   * Connects, and reconnects for ever after. Waits a few seconds for the first connection, then
   * goes on: a broker that is down at boot must not keep the application (and its synchronous
   * calls) from starting; enqueues fail with `LLM_JOBS_BROKER_UNAVAILABLE` until it is up.
   */
  async connect(): Promise<void> {
    const { connect } = loadOptionalPeer<typeof import('amqplib')>('amqplib', 'LlmJobsModule');
    const connection = await connect(this.url, {
      recovery: {
        initialDelay: 100,
        maxDelay: 2_000,
        maxRetries: Infinity,
        waitForConnect: false,
        setup: (model: ChannelModel) => this.setup(model),
      },
    });
    this.connection = connection;
    // Whether a loss was said ("connection lost", "unreachable"): its end is said too.
    let lost = false;
    let warned = false;
    connection.on('disconnect', (error: Error) => {
      this.model = undefined;
      this.publisher = undefined;
      if (this.consumer) this.consumer.channel = undefined;
      this.declaredDelays.clear();
      // Closing: no reconnect (amqplib schedules it right after this event; stopped, it does not).
      if (this.closing) {
        void connection.close().catch(() => undefined);
        return;
      }
      lost = true;
      this.logger.warn(`RabbitMQ connection lost (${error.message}); reconnecting`);
    });
    connection.on('connect-failed', (error: Error) => {
      if (warned || this.closing) return;
      warned = lost = true;
      this.logger.warn(`RabbitMQ is unreachable (${error.message}); retrying in the background`);
    });
    connection.on('connect', (model: ChannelModel) => {
      this.model = model;
      warned = false;
      if (!lost || this.closing) return;
      lost = false;
      this.logger.log('RabbitMQ answers again: reconnected, enqueues are confirmed again');
    });
    connection.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connection.waitForConnect().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, FIRST_CONNECT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Starts consuming the work queue, now and after every reconnect. */
  /** Consumes from now on, or once the broker is reachable; true when consuming already. */
  async consume(handler: JobDeliveryHandler, prefetch: number): Promise<boolean> {
    this.consumer = { handler, prefetch };
    if (!(this.connection && this.publisher)) return false;
    await this.startConsumer(this.publisherModel!);
    return true;
  }

  /**
   * Stops taking new jobs; unacked ones go back to the queue when the channel closes. Bounded: a
   * broker that dies or hangs before it answers the close does not hold the caller.
   */
  async stopConsuming(): Promise<void> {
    const channel = this.consumer?.channel;
    this.consumer = undefined;
    if (channel) await closeWithin(() => channel.close(), channel);
  }

  /**
   * Publishes a persistent message and resolves once the broker confirmed it.
   * @throws LlmJobsError `LLM_JOBS_BROKER_UNAVAILABLE` when there is no connection or no confirm
   */
  async publish(
    queue: string,
    body: Buffer,
    options: { messageId: string; headers?: Record<string, unknown> },
  ): Promise<void> {
    const channel = this.publisher;
    if (!channel) throw brokerUnavailable();
    await new Promise<void>((resolve, reject) => {
      try {
        channel.sendToQueue(
          queue,
          body,
          {
            persistent: true,
            contentType: 'application/json',
            messageId: options.messageId,
            timestamp: Math.floor(Date.now() / 1000),
            headers: options.headers ?? {},
          },
          (error: unknown) => (error ? reject(brokerUnavailable(error)) : resolve()),
        );
      } catch (error) {
        reject(brokerUnavailable(error));
      }
    });
  }

  /** Publishes to the delay bucket for `waitMs` (declared on first use). */
  async publishDelayed(
    waitMs: number,
    body: Buffer,
    options: { messageId: string; headers?: Record<string, unknown> },
  ): Promise<void> {
    const { name, ttlMs } = this.topology.delayQueue(waitMs);
    if (!this.declaredDelays.has(name)) {
      const channel = this.publisher;
      if (!channel) throw brokerUnavailable();
      await channel.assertQueue(name, this.topology.delayQueueOptions(ttlMs));
      this.declaredDelays.add(name);
    }
    await this.publish(name, body, options);
  }

  /** Messages ready in the work queue (not those a worker holds), or undefined without a connection. */
  async depth(): Promise<number | undefined> {
    const channel = this.publisher;
    if (!channel) return undefined;
    const reply = await channel.checkQueue(this.topology.queue).catch(() => undefined);
    return reply?.messageCount;
  }

  /**
   * Closes for good: no reconnect from here on (a connection lost while closing is not
   * recovered), and each step waits at most {@link CLOSE_TIMEOUT_MS} for the broker, so a broker
   * that dies or hangs mid-close cannot keep the process from exiting.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.stopConsuming();
    const connection = this.connection;
    // amqplib's close stops its recovery at once, then closes the connection of now, if any.
    if (connection) await closeWithin(() => connection.close(), this.model);
    this.model = undefined;
    this.publisher = undefined;
  }

  private publisherModel?: ChannelModel;

  private async setup(model: ChannelModel): Promise<void> {
    await this.openPublisher(model, true);
    if (this.consumer) await this.startConsumer(model);
  }

  /**
   * The confirm channel publishes go through. A channel the broker closes on its own while the
   * connection stays up (a channel error: a message over the broker's `max_message_size`) is
   * reopened at once: amqplib's recovery acts only when the whole connection drops, and without
   * this every later enqueue failed until the process restarted.
   */
  private async openPublisher(model: ChannelModel, declare: boolean): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    if (declare) {
      const { topology } = this;
      await channel.assertQueue(topology.queue, topology.workQueueOptions());
      await channel.assertQueue(topology.deadLetterQueue, topology.deadLetterQueueOptions());
    }
    this.publisherModel = model;
    this.publisher = channel;
    channel.on('close', () => {
      if (this.publisher !== channel) return;
      this.publisher = undefined;
      // The connection lost: its recovery sets everything up again. Else only this channel.
      if (!this.closing) void this.openPublisher(model, false).catch(() => undefined);
    });
  }

  private async startConsumer(model: ChannelModel): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    // Per consumer: at most `prefetch` unacked jobs in this worker at once.
    await channel.prefetch(consumer.prefetch, false);
    consumer.channel = channel;
    channel.on('close', () => {
      // Closed by the broker on its own (a channel error) while still consuming: consume again.
      if (this.consumer !== consumer || consumer.channel !== channel || this.closing) return;
      consumer.channel = undefined;
      void this.startConsumer(model).catch(() => undefined);
    });
    await channel.consume(
      this.topology.queue,
      (message) => {
        if (!message) return; // the broker cancelled the consumer (queue deleted)
        consumer.handler(message, channel).catch((error: unknown) => {
          this.logger.error(`Job delivery failed unexpectedly: ${String(error)}`);
        });
      },
      { noAck: false },
    );
    // Said each time consuming starts: at boot, and after RabbitMQ came back.
    this.logger.log(`Job worker consuming '${this.topology.queue}', ${consumer.prefetch} at once`);
  }
}

/**
 * Runs `close` and resolves when it settles, when `emitter` (the channel or connection it closes)
 * emits 'close' (the socket died: amqplib then never settles the close itself), or after
 * {@link CLOSE_TIMEOUT_MS} (the broker hangs), whichever comes first. Never rejects.
 */
function closeWithin(close: () => Promise<unknown>, emitter?: EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      emitter?.removeListener('close', done);
      resolve();
    };
    const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
    emitter?.once('close', done);
    try {
      close().then(done, done);
    } catch {
      done();
    }
  });
}
