import { type EnvReader } from './env.reader';
import { GATEWAY_BODY_LIMIT_BYTES, GATEWAY_MAX_BODY_LIMIT_MB } from './gateway.constants';

/** Who may call the gateway, from where, and how it shuts down. */
export interface GatewayInboundConfig {
  /**
   * GATEWAY_API_KEYS: comma-separated keys callers send as `Authorization: Bearer <key>`. Empty:
   * no inbound authentication (and the gateway binds loopback unless HOST says otherwise).
   * Never logged, never forwarded upstream.
   */
  apiKeys: string[];
  /** GATEWAY_CORS_ORIGINS: origins allowed by CORS. Empty: CORS off. */
  corsOrigins: string[];
  /** GATEWAY_SHUTDOWN_DELAY_MS: on SIGTERM, how long readiness fails before the server stops accepting. @default 5000 */
  shutdownDelayMs: number;
  /** LLM_DRAIN_TIMEOUT_MS: how long calls in flight may take to finish on shutdown. @default LlmModule's 20000 */
  drainTimeoutMs?: number;
  /** GATEWAY_HEADERS_TIMEOUT_MS: a client must send its headers within this. @default 10000 */
  headersTimeoutMs: number;
  /** GATEWAY_REQUEST_TIMEOUT_MS: a client must send its whole request within this. @default 30000 */
  requestTimeoutMs: number;
  /** GATEWAY_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this. @default 5000 */
  keepAliveTimeoutMs: number;
  /**
   * GATEWAY_SEND_TIMEOUT_MS: a stream's client that takes none of what waits for it for this long
   * has its connection closed, and the stream ends (as nginx's `send_timeout`). @default 60000
   */
  sendTimeoutMs: number;
  /** GATEWAY_HTTP_PLATFORM: Nest's HTTP platform, `express` or `fastify`. @default 'express' */
  httpPlatform: GatewayHttpPlatform;
  /**
   * GATEWAY_BODY_LIMIT_MB: the largest request body, in MiB (1 to 100), before decoding and after;
   * a larger one gets 413 `payload_too_large`. Raise it for images sent as base64. @default 10
   */
  bodyLimitBytes: number;
}

/** The HTTP platforms the gateway runs on (`@nestjs/platform-express` or `-fastify`). */
export type GatewayHttpPlatform = 'express' | 'fastify';
const HTTP_PLATFORMS: readonly GatewayHttpPlatform[] = ['express', 'fastify'];

/** Shortest inbound key accepted: a short key is guessable. */
const MIN_KEY_LENGTH = 16;

/**
 * Reads the inbound side of the gateway's configuration. Keys are never echoed in problems.
 *
 * @example
 * const inbound = readInboundConfig(new EnvReader({ GATEWAY_API_KEYS: 'k1...,k2...' }));
 */
export function readInboundConfig(read: EnvReader): GatewayInboundConfig {
  const apiKeys = read.list('GATEWAY_API_KEYS');
  apiKeys.forEach((key, i) => {
    if (key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
      read.report(
        `GATEWAY_API_KEYS entry ${i + 1} must be at least ${MIN_KEY_LENGTH} characters without spaces ` +
          `(it has ${key.length}); e.g. from: openssl rand -hex 24`,
      );
    }
  });
  const corsOrigins = read.list('GATEWAY_CORS_ORIGINS');
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      read.report(
        `GATEWAY_CORS_ORIGINS entries must be origins such as https://app.example.com (or *), got '${origin.slice(0, 80)}'`,
      );
    }
  }
  const platform = read.text('GATEWAY_HTTP_PLATFORM')?.toLowerCase() ?? 'express';
  if (!HTTP_PLATFORMS.includes(platform as GatewayHttpPlatform)) {
    read.report(
      `GATEWAY_HTTP_PLATFORM must be one of ${HTTP_PLATFORMS.join(', ')}, got '${platform.slice(0, 40)}'`,
    );
  }
  return {
    apiKeys,
    corsOrigins,
    httpPlatform: platform as GatewayHttpPlatform,
    shutdownDelayMs: read.wholeNumber('GATEWAY_SHUTDOWN_DELAY_MS', { min: 0 }) ?? 5_000,
    drainTimeoutMs: read.wholeNumber('LLM_DRAIN_TIMEOUT_MS', { min: 0 }),
    headersTimeoutMs: read.wholeNumber('GATEWAY_HEADERS_TIMEOUT_MS', { min: 100 }) ?? 10_000,
    requestTimeoutMs: read.wholeNumber('GATEWAY_REQUEST_TIMEOUT_MS', { min: 100 }) ?? 30_000,
    keepAliveTimeoutMs: read.wholeNumber('GATEWAY_KEEP_ALIVE_TIMEOUT_MS', { min: 100 }) ?? 5_000,
    sendTimeoutMs:
      read.wholeNumber('GATEWAY_SEND_TIMEOUT_MS', { min: 100, max: 2 ** 31 - 1 }) ?? 60_000,
    bodyLimitBytes:
      (read.wholeNumber('GATEWAY_BODY_LIMIT_MB', { min: 1, max: GATEWAY_MAX_BODY_LIMIT_MB }) ??
        GATEWAY_BODY_LIMIT_BYTES / (1024 * 1024)) *
      1024 *
      1024,
  };
}

/**
 * The address to bind: HOST when set; otherwise all interfaces only when callers must present a
 * key, loopback when anyone who can reach the port could spend the gateway's upstream key.
 */
export function defaultHost(inbound: GatewayInboundConfig): string {
  return inbound.apiKeys.length > 0 ? '0.0.0.0' : '127.0.0.1';
}
