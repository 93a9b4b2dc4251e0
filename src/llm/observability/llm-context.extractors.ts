import type { ExecutionContext } from '@nestjs/common';
import { rpcHeader } from './rpc-message.reader';

/** Reads one piece of business context from the request or message being handled. */
export type LlmContextExtractor = (context: ExecutionContext) => string | undefined;

// Values from the outside end up in events, spans and logs: bounded, and ids of a safe shape.
const MAX_LENGTH = 256;
const SAFE_ID = /^[\w.:@/+=-]{1,128}$/;

interface HttpRequestLike {
  headers?: Record<string, string | string[] | undefined>;
  user?: { id?: unknown; sub?: unknown; userId?: unknown };
}

/**
 * Default user id: the authenticated user (`request.user.id`, `.sub` or `.userId`, as Passport
 * strategies set it), else the `x-user-id` header; for RPC, `userId`/`user.id` in the message,
 * else an `x-user-id` header or metadata entry of the transport.
 */
export const defaultUserIdExtractor: LlmContextExtractor = (context) => {
  if (context.getType() === 'http') {
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const user = req.user;
    return (
      cleanContextValue(user?.id ?? user?.sub ?? user?.userId) ??
      cleanContextValue(httpHeader(req, 'x-user-id'))
    );
  }
  if (context.getType() === 'rpc') return fromRpc(context, 'userId', 'x-user-id');
  return undefined;
};

/** Default feature name (when no `@LlmFeature` applies): the `x-feature-name` header or field. */
export const defaultFeatureExtractor: LlmContextExtractor = (context) => {
  if (context.getType() === 'http') {
    return cleanContextValue(
      httpHeader(context.switchToHttp().getRequest<HttpRequestLike>(), 'x-feature-name'),
    );
  }
  if (context.getType() === 'rpc') return fromRpc(context, 'featureName', 'x-feature-name');
  return undefined;
};

/** Default request id: `x-request-id` when it has a safe shape, else none (one is generated). */
export const defaultRequestIdExtractor: LlmContextExtractor = (context) => {
  const raw =
    context.getType() === 'http'
      ? httpHeader(context.switchToHttp().getRequest<HttpRequestLike>(), 'x-request-id')
      : context.getType() === 'rpc'
        ? fromRpc(context, 'requestId', 'x-request-id')
        : undefined;
  return isSafeRequestId(raw) ? raw : undefined;
};

/**
 * True for a request id of a safe shape (1-128 letters, digits and `._:@/+=-`): anything else is
 * replaced by a generated id rather than recorded. For custom extractors.
 */
export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

/**
 * The payload field (`userId`, or `user.id`), else the transport's header or metadata entry
 * (see {@link rpcHeader}): RMQ, NATS, Kafka, MQTT headers, gRPC metadata, TCP/Redis metadata.
 */
function fromRpc(context: ExecutionContext, field: string, header: string): string | undefined {
  const data = context.switchToRpc().getData<unknown>();
  const payload = data && typeof data === 'object' ? (data as Record<string, unknown>) : undefined;
  const nested =
    field === 'userId' && payload?.user && typeof payload.user === 'object'
      ? (payload.user as { id?: unknown }).id
      : undefined;
  return (
    cleanContextValue(payload?.[field] ?? nested) ?? cleanContextValue(rpcHeader(context, header))
  );
}

function httpHeader(req: HttpRequestLike, name: string): string | undefined {
  const value = req.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : fromHeaderBytes(first);
}

/**
 * Node reads header bytes as Latin-1, so a UTF-8 `x-user-id` such as `José` arrives as `JosÃ©`.
 * Bytes that form valid UTF-8 are decoded as UTF-8; anything else is kept as it came.
 */
function fromHeaderBytes(value: string): string {
  // Pure ASCII, or already beyond Latin-1 (a framework decoded it): nothing to do.
  if (!/[\x80-\xff]/.test(value) || /[\u0100-\uffff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/**
 * Makes a value from outside (header, metadata, payload field) safe to record in events, spans
 * and logs: strings, numbers and Buffers only, control characters removed, trimmed, at most 256
 * characters; undefined when nothing is left. For custom extractors.
 *
 * @example
 * const userId: LlmContextExtractor = (context) =>
 *   cleanContextValue(context.switchToRpc().getData<{ account?: unknown }>().account);
 */
export function cleanContextValue(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value !== 'string') return undefined;
  // Control characters never reach a log line, span or event field from a header.
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const trimmed = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '').trim();
  return trimmed ? trimmed.slice(0, MAX_LENGTH) : undefined;
}
