import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { loadOptionalPeer } from '../optional-peer';
import type { LlmJobRecord, LlmJobState } from './llm-job.types';
import { DeferredWritesBuffer } from './deferred-writes.buffer';
import { TRANSITION_SCRIPT } from './job-state.scripts';

/** ioredis, an optional peer: loaded only when the jobs module connects to Redis itself. */
const ioredis = () => loadOptionalPeer<typeof import('ioredis')>('ioredis', 'LlmJobsModule');

/** How a write treats the state already stored (see TRANSITION_SCRIPT). */
export type TransitionMode = 'create' | 'update' | 'run' | 'cancel';

/** What a transition found and did. */
export interface TransitionResult {
  applied: boolean;
  /** The job's state after the step (undefined: no such job). */
  state?: LlmJobState;
  deliveries: number;
}

/** A stored job: its record and how many runs it started. */
export interface StoredJob {
  record: LlmJobRecord;
  deliveries: number;
}

const COMMAND_TIMEOUT_MS = 2_000;

type RedisWithTransition = Redis & {
  llmJobTransition(...args: (string | number)[]): Promise<[number, string, number]>;
};

/**
 * Job states in Redis, with an expiry: the job's deadline plus `stateTtlMs`. Redis, because the
 * module already uses it for shared rate limits, every replica and worker reads the same state,
 * a Lua script makes each step atomic, and pub/sub tells waiting callers at once.
 *
 * When Redis is down: an enqueue's first write is kept in memory (bounded) and written when
 * Redis is back; reads throw (the API answers "state unknown", never a wrong state); workers
 * hold their message until they could store the outcome.
 */
export class JobStateStore {
  private readonly logger = new Logger('LlmJobs');
  private readonly client: RedisWithTransition;
  private subscriber?: Redis;
  private readonly owned: boolean;
  private readonly deferred: DeferredWritesBuffer;
  private readonly listeners = new Set<(id: string, state: LlmJobState) => void>();
  private readonly keyPrefix: string;

  constructor(
    redis: { url: string } | { client: Redis },
    queue: string,
    private readonly stateTtlMs: number,
    onDeferred: (outcome: 'deferred' | 'dropped') => void = () => undefined,
  ) {
    this.deferred = new DeferredWritesBuffer(onDeferred);
    this.owned = !('client' in redis);
    const client =
      'client' in redis
        ? redis.client
        : new (ioredis().Redis)(redis.url, {
            lazyConnect: true,
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            connectTimeout: 1_000,
            commandTimeout: COMMAND_TIMEOUT_MS,
            retryStrategy: (times) => Math.min(times * 100, 1_000),
          });
    client.on('error', () => undefined);
    client.on('ready', () => void this.flushDeferred());
    client.defineCommand('llmJobTransition', { numberOfKeys: 2, lua: TRANSITION_SCRIPT });
    this.client = client as RedisWithTransition;
    this.keyPrefix = `${queue}:`;
  }

  /** The pub/sub channel of state changes: `<id> <state>` per step. */
  get channel(): string {
    return `${this.keyPrefix}changes`;
  }

  async connect(): Promise<void> {
    if (this.owned && this.client.status === 'wait') {
      await this.client.connect().catch(() => undefined);
    }
    const subscriber = this.client.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      commandTimeout: undefined,
    });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      const [id, state] = message.split(' ');
      if (!id || !state) return;
      for (const listener of this.listeners) listener(id, state as LlmJobState);
    });
    this.subscriber = subscriber;
    // ioredis subscribes again after every reconnect; while Redis is down this waits in its queue.
    subscriber.subscribe(this.channel).catch(() => undefined);
  }

  close(): void {
    this.subscriber?.disconnect();
    if (this.owned) this.client.disconnect();
  }

  /** Calls `listener` for every state change of any job, from any process. */
  onChange(listener: (id: string, state: LlmJobState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes a new job's first state; while Redis is down the write waits in memory. */
  async create(record: LlmJobRecord): Promise<void> {
    const write = () => this.transition('create', record);
    try {
      await write();
    } catch {
      this.deferred.keep(write);
    }
  }

  /** @throws when Redis does not answer */
  transition(mode: TransitionMode, record: LlmJobRecord): Promise<TransitionResult> {
    return this.run(mode, record.id, record.state, JSON.stringify(record), record);
  }

  /** Cancels a job that has not ended. @throws when Redis does not answer */
  cancel(id: string): Promise<TransitionResult> {
    const ttl = { deadlineAt: Date.now() };
    return this.run('cancel', id, 'cancelled', '', { ...ttl, enqueuedAt: 0 });
  }

  /** @throws when Redis does not answer */
  async read(id: string): Promise<StoredJob | undefined> {
    const hash = await this.client.hgetall(this.key(id));
    if (!hash.doc || !hash.state) return undefined;
    const record = JSON.parse(hash.doc) as LlmJobRecord;
    return {
      record: { ...record, state: hash.state as LlmJobState },
      deliveries: Number(hash.deliveries ?? 0),
    };
  }

  /** 1 for the job queued longest, or undefined when the job is not queued. */
  async position(id: string): Promise<number | undefined> {
    const rank = await this.client.zrank(this.queuedKey, id);
    return rank === null ? undefined : rank + 1;
  }

  /** Enqueue time of the job queued longest, skipping entries whose state expired. */
  async oldestQueuedAt(): Promise<number | undefined> {
    for (let i = 0; i < 10; i++) {
      const [id, score] = await this.client.zrange(this.queuedKey, '0', '0', 'WITHSCORES');
      if (id === undefined || score === undefined) return undefined;
      if ((await this.client.exists(this.key(id))) === 1) return Number(score);
      await this.client.zrem(this.queuedKey, id);
    }
    return undefined;
  }

  private get queuedKey(): string {
    return `${this.keyPrefix}queued`;
  }

  private key(id: string): string {
    return `${this.keyPrefix}job:${id}`;
  }

  private async run(
    mode: TransitionMode,
    id: string,
    state: LlmJobState,
    doc: string,
    times: { deadlineAt: number; enqueuedAt: number },
  ): Promise<TransitionResult> {
    const ttlMs = Math.max(times.deadlineAt - Date.now(), 0) + this.stateTtlMs;
    const [applied, now, deliveries] = await this.client.llmJobTransition(
      this.key(id),
      this.queuedKey,
      mode,
      state,
      doc,
      Math.ceil(ttlMs),
      id,
      times.enqueuedAt,
      this.channel,
      Date.now(),
    );
    return { applied: applied === 1, state: (now || undefined) as LlmJobState, deliveries };
  }

  private async flushDeferred(): Promise<void> {
    if (this.deferred.size === 0) return;
    const written = await this.deferred.flush();
    this.logger.log(`Wrote ${written} job states kept while Redis was down`);
  }
}
