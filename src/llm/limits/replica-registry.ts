import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** How often a replica says it is alive. */
const HEARTBEAT_MS = 1000;
/** A replica not heard from for this long is gone: three missed heartbeats. */
const EXPIRY_MS = 3 * HEARTBEAT_MS;

/**
 * KEYS[1] sorted set: replica id → last heartbeat (ms, Redis clock). ARGV: id, expiry ms. Adds or
 * refreshes this replica, drops the ones gone quiet, returns how many are alive.
 */
const HEARTBEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - expiry)
redis.call('PEXPIRE', KEYS[1], 2 * expiry)
return redis.call('ZCARD', KEYS[1])
`;

interface HeartbeatCommand {
  llmReplicaHeartbeat(key: string, id: string, expiryMs: number): Promise<number>;
}

/**
 * How many replicas share the budgets: each one that uses Redis registers itself with a heartbeat
 * that expires, and reads the live count back. While Redis is lost the last count seen stays in
 * force, so a replica falling back to its local share takes `1/replicas` of the right number;
 * `limits.replicas` is only used while Redis was never reachable.
 *
 * @example
 * const registry = new ReplicaRegistry(client, 'llm:ratelimit:', id);
 * await registry.start();
 * registry.count; // 3 with three replicas alive
 */
export class ReplicaRegistry {
  private learned?: number;
  private timer?: NodeJS.Timeout;
  private readonly key: string;
  private readonly logger = new Logger('LlmRateLimiter');

  constructor(
    private readonly client: Redis,
    keyPrefix: string,
    private readonly id: string,
  ) {
    this.key = `${keyPrefix}replicas`;
    if (!('llmReplicaHeartbeat' in client)) {
      client.defineCommand('llmReplicaHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_SCRIPT });
    }
  }

  /** The replicas alive as Redis last said; `undefined` while Redis was never reachable. */
  get count(): number | undefined {
    return this.learned;
  }

  /** Sends the first heartbeat (a failure is fine: Redis may come later), then one per second. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops the heartbeat and leaves the count at once, so the others take over this share. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.client.status !== 'ready') return;
    await this.client.zrem(this.key, this.id).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    if (this.client.status !== 'ready') return;
    try {
      const commands = this.client as unknown as HeartbeatCommand;
      const alive = Number(await commands.llmReplicaHeartbeat(this.key, this.id, EXPIRY_MS));
      if (alive >= 1 && alive !== this.learned) {
        this.logger.log(
          `${alive} replica(s) share the rate-limit budgets in Redis; each falls back to ` +
            `1/${alive} of them while Redis is unreachable.`,
        );
        this.learned = alive;
      }
    } catch {
      // Redis lost: the last count seen stays in force; the next beat tries again.
    }
  }
}
