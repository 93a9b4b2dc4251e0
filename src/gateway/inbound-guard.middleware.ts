import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GATEWAY_BODY_LIMIT_BYTES } from './gateway.constants';
import { sendJson } from './http-exchange';
import { requestIdFor } from './inbound-call.options';
import { openAiError, type OpenAiErrorReply } from './openai-error.body';

/** The API the guard protects; health and metrics stay open to orchestrators and scrapers. */
const API_PREFIX = '/v1';
const API_PREFIX_LENGTH = API_PREFIX.length;

/** A middleware on Node's request and response, as Express and Fastify (middie) call it. */
export type NodeMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The gateway's front door for `/v1`, before any body is read: with inbound keys configured a
 * request must carry one as `Authorization: Bearer <key>` (401 otherwise), and a POST to the chat
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
export function inboundGuard(apiKeys: readonly string[], then?: NodeMiddleware): NodeMiddleware {
  const digests = apiKeys.map(digest);
  return (req, res, next) => {
    if (req.method !== 'OPTIONS' && isApiPath(req)) {
      if (digests.length > 0 && !knownKey(bearer(req), digests)) {
        return send(
          req,
          res,
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
 * Whether the request's path (without the query) is `/v1` or under it, as the router sees it:
 * in any letter case (Express routes paths without regard to case by default, so
 * `/V1/chat/completions` reaches the same handler), and in a request line's absolute form too
 * (`POST http://host/v1/chat/completions`: Express routes it by its path). Read from the URL as it
 * came, without cutting the query off first.
 */
export function isApiPath(req: RoutedRequest): boolean {
  const path = targetPath(req);
  // '/', 'v' or 'V' (a letter's lower case has bit 0x20 set), '1'
  if (
    path.charCodeAt(0) !== 0x2f ||
    (path.charCodeAt(1) | 0x20) !== 0x76 ||
    path.charCodeAt(2) !== 0x31
  ) {
    return false;
  }
  if (path.length === API_PREFIX_LENGTH) return true;
  const next = path.charCodeAt(API_PREFIX_LENGTH);
  // '/' (under it) or '?' (its query)
  return next === 0x2f || next === 0x3f;
}

const CHAT_PATH = '/chat/completions';

/**
 * Whether an API path (see {@link isApiPath}) is the chat route's, `/v1/chat/completions`, as the
 * router matches it: any letter case, a trailing slash, a query.
 */
function isChatPath(req: RoutedRequest): boolean {
  const path = targetPath(req);
  const query = path.indexOf('?');
  let rest = path.slice(API_PREFIX_LENGTH, query === -1 ? undefined : query);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  return rest.length === CHAT_PATH.length && rest.toLowerCase() === CHAT_PATH;
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

function send(req: IncomingMessage, res: ServerResponse, reply: OpenAiErrorReply): void {
  requestIdFor(req, res);
  sendJson(res, reply.status, reply.body, reply.headers);
  if (!req.complete) dropBody(req);
}

/**
 * Reads the rest of a refused request's body and drops it, so the client can finish sending and
 * read the answer (closing at once would break its pipe while it still writes, and OpenAI's SDKs
 * retry a broken connection, so the body would be sent again). A body over the gateway's limit is
 * not read to its end: the connection is closed at the limit.
 */
function dropBody(req: IncomingMessage): void {
  let left = GATEWAY_BODY_LIMIT_BYTES;
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) req.socket.destroy();
  });
  req.resume();
}
