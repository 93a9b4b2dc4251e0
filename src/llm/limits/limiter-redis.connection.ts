import type { Redis } from 'ioredis';
import { loadOptionalPeer } from '../optional-peer';
import { maskUrlPasswords, redactSecrets } from '../resilience/secret-redaction';
import type { ResolvedRedisOptions } from './llm-limits.options';

/** ioredis, an optional peer: loaded only when `redis` is configured. */
const ioredis = () => loadOptionalPeer<typeof import('ioredis')>('ioredis', 'redis');

/** How long the boot waits for Redis before it goes on with local budgets. */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * The Redis connection of the budgets. Built to fail fast: no offline queue, no retries of a
 * command, a short connect timeout and a reconnect at most every second, so a dead Redis costs a
 * call nothing (it falls back to local budgets) and a Redis that comes back is used again soon.
 */
export class LimiterRedisConnection {
  readonly client: Redis;
  private readonly owned: boolean;

  constructor(options: ResolvedRedisOptions) {
    this.owned = options.client === undefined;
    this.client =
      options.client ??
      new (ioredis().Redis)(options.url!, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: options.timeoutMs,
        retryStrategy: (times) => Math.min(times * 100, 1000),
        // Connection errors are reported once by the limiter, not by ioredis on every retry.
        showFriendlyErrorStack: false,
      });
    // Without a listener, ioredis prints every failed reconnect as an unhandled error event.
    // The last one is kept: it says why the connection is not ready (WRONGPASS, ECONNREFUSED).
    this.client.on('error', this.onError);
    this.client.on('ready', this.onReady);
  }

  /** The last connection error since the connection was last ready, without any secret. */
  private lastError?: string;

  private readonly onError = (error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    const password = this.client.options.password || undefined; // ioredis: null when none
    // Redis never echoes a password, but a URL or a password in an error message must not reach
    // a log line.
    const safe = redactSecrets(maskUrlPasswords(message), [password]);
    this.lastError = safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
  };

  private readonly onReady = (): void => {
    this.lastError = undefined;
  };

  /**
   * Why commands cannot be sent now, for log lines: the connection's state and the last error it
   * met, e.g. `connection reconnecting: WRONGPASS invalid username-password pair or user is
   * disabled.` (never the URL or the password).
   */
  get notReadyReason(): string {
    const status = `connection ${this.client.status}`;
    return this.lastError === undefined ? status : `${status}: ${this.lastError}`;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** `host:port` for log lines: never the URL, which may hold a password. */
  get address(): string {
    const { host, port } = this.client.options;
    return `${host ?? 'localhost'}:${port ?? 6379}`;
  }

  /** Connects a connection the module owns; resolves when ready or after a short wait. */
  async connect(): Promise<void> {
    if (this.client.status === 'wait') {
      // An application's lazy client is its to connect: budgets stay local until it is ready.
      if (!this.owned) return;
      this.client.connect().catch(() => undefined);
    }
    if (this.ready) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_TIMEOUT_MS);
      this.client.once('ready', done);
    });
  }

  /** Closes a connection the module opened; an application's own client stays open. */
  async close(): Promise<void> {
    // The error listener stays: without one, an application's client would throw on its next error.
    this.client.off('ready', this.onReady);
    if (!this.owned) return;
    if (this.ready) {
      await Promise.race([
        this.client.quit().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, CONNECT_TIMEOUT_MS).unref()),
      ]);
    }
    this.client.disconnect();
  }
}
