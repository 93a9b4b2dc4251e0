import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GATEWAY_BODY_LIMIT_BYTES } from './gateway.constants';
import { sendJson } from './http-exchange';
import { requestIdFor } from './inbound-call.options';
import { openAiError, type OpenAiErrorReply } from './openai-error.body';

/**
 * The paths open without a key, exactly (any letter case, a trailing slash, a query): health and
 * metrics, for orchestrators and scrapers. Every other path needs a key, whatever the router
 * makes of it: a router that decodes `%76%31` into `v1` (Fastify's) or folds letter case
 * (Express's) cannot route a path the guard did not check to the chat handler.
 */
const OPEN_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/health/live',
  '/health/ready',
  '/metrics',
]);
const API_PREFIX = '/v1';

/** A middleware on Node's request and response, as Express and Fastify (middie) call it. */
export type NodeMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The gateway's front door, before any body is read: with inbound keys configured a
 * request to any path but health and metrics ({@link isOpenPath}) must carry one as `Authorization: Bearer <key>` (401 otherwise), and a POST to the chat
 * route must be `application/json` (415 otherwise: a browser form post needs no CORS preflight,
 * so without this any web page could spend the gateway's upstream key; other paths get their
 * 404 as usual). Both answers carry an `x-request-id`, and the body the client is still sending
 * is read and dropped (up to the gateway's body limit), so the client gets the answer instead of
 * a broken pipe. Keys are compared in
 * constant time and never forwarded: the upstream only ever sees the gateway's own key.
 *
 * `then`, when given, runs next on every request the guard lets through (any path), as the
 * middleware registered after it would, in the same router step: on Express the body reader
 * goes there, which spares every request one step of the router.
 *
 * @example
 * app.use(inboundGuard(config.inbound.apiKeys)); // before the body parser
 * express.use(inboundGuard(config.inbound.apiKeys, jsonBodyReader(limit))); // guard, then reader
 *
 * Node's request and response: Express middleware gets them, and so does Fastify's (middie).
 */
export function inboundGuard(
  apiKeys: readonly string[],
  then?: NodeMiddleware,
  /** The body limit: a refused request's body is read and dropped up to it, then cut. */
  bodyLimitBytes: number = GATEWAY_BODY_LIMIT_BYTES,
): NodeMiddleware {
  const digests = apiKeys.map(digest);
  return (req, res, next) => {
    if (req.method !== 'OPTIONS' && !isOpenPath(req)) {
      if (digests.length > 0 && !knownKey(bearer(req), digests)) {
        return send(
          req,
          res,
          bodyLimitBytes,
          openAiError(
            401,
            'authentication_error',
            'Missing or unknown API key for this gateway. Send one of its keys (GATEWAY_API_KEYS) ' +
              'as Authorization: Bearer <key>.',
            { code: 'invalid_api_key' },
          ),
        );
      }
      // Only the route that calls the upstream: any other path answers 404 as it would.
      if (req.method === 'POST' && !isJson(req) && isChatPath(req)) {
        return send(
          req,
          res,
          bodyLimitBytes,
          openAiError(
            415,
            'invalid_request_error',
            'The request body must be JSON sent with Content-Type: application/json.',
            { code: 'unsupported_media_type' },
          ),
        );
      }
    }
    if (then) then(req, res, next);
    else next();
  };
}

/**
 * Whether the request's path is one of the {@link OPEN_PATHS} (health, metrics): open without a
 * key, and served while the gateway drains. Read from the target as it came (origin or absolute
 * form), its query cut off, percent-decoded, in any letter case, with a trailing slash or not.
 */
export function isOpenPath(req: RoutedRequest): boolean {
  const target = targetPath(req);
  // Most requests are the API's: '/' then neither 'h', 'm' (any case) nor an escape ('%').
  const second = target.charCodeAt(1) | 0x20;
  if (second !== 0x68 && second !== 0x6d && target.charCodeAt(1) !== 0x25) return false;
  let path = routePath(target).toLowerCase();
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return OPEN_PATHS.has(path);
}

const CHAT_PATH = '/chat/completions';

/** Whether the request is a POST to the chat route (see {@link isChatPath}): the one taking a body. */
export function isChatRoute(req: RoutedRequest): boolean {
  return req.method === 'POST' && isChatPath(req);
}

/**
 * Whether the request is for the chat route, `/v1/chat/completions`, as a router may match it:
 * any letter case, percent-escapes, a trailing slash, a query.
 */
function isChatPath(req: RoutedRequest): boolean {
  let path = routePath(targetPath(req)).toLowerCase();
  if (path.endsWith('/')) path = path.slice(0, -1);
  return path === API_PREFIX + CHAT_PATH;
}

/**
 * A target's path without its query, percent-decoded as a router decodes it before matching
 * (Fastify's does); a malformed escape leaves it as it came.
 */
function routePath(target: string): string {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

type RoutedRequest = IncomingMessage & { originalUrl?: string };

/** The request target's path and query, as the router reads it (origin or absolute form). */
function targetPath(req: RoutedRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  return url.charCodeAt(0) === 0x2f ? url : absoluteFormPath(url);
}

/**
 * The path and query of a request target in absolute form. A target WHATWG's parser refuses
 * (`http://x:99999/v1/...`: a port out of range) may still reach a route, since Express parses
 * with the older, laxer `url.parse`: it is taken as the chat route's, so the key and media type
 * checks apply to it.
 */
function absoluteFormPath(target: string): string {
  if (!URL.canParse(target)) return API_PREFIX + CHAT_PATH;
  const { pathname, search } = new URL(target);
  return pathname + search;
}

/** Whether the media type is `application/json` (any parameters, any case). */
function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  // What every JSON client sends, without a split and two copies per request.
  if (type === 'application/json') return true;
  return (type ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** Digests have one length, so the comparison takes the same time whatever was sent. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function knownKey(given: string | undefined, digests: readonly Buffer[]): boolean {
  if (given === undefined) return false;
  const candidate = digest(given);
  // Every key is compared, so the time does not say which one matched.
  let found = false;
  for (const known of digests) found = timingSafeEqual(candidate, known) || found;
  return found;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  bodyLimitBytes: number,
  reply: OpenAiErrorReply,
): void {
  requestIdFor(req, res);
  sendJson(res, reply.status, reply.body, reply.headers);
  if (!req.complete) dropBody(req, bodyLimitBytes);
}

/**
 * Reads the rest of a refused request's body and drops it, so the client can finish sending and
 * read the answer (closing at once would break its pipe while it still writes, and OpenAI's SDKs
 * retry a broken connection, so the body would be sent again). A body over the gateway's limit is
 * not read to its end: the connection is closed at the limit.
 */
function dropBody(req: IncomingMessage, bodyLimitBytes: number): void {
  let left = bodyLimitBytes;
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) req.socket.destroy();
  });
  req.resume();
}
