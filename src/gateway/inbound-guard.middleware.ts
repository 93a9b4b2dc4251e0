import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { requestPath, sendJson } from './http-exchange';
import { openAiError, type OpenAiErrorReply } from './openai-error.body';

/** The API the guard protects; health and metrics stay open to orchestrators and scrapers. */
const API_PREFIX = '/v1';

/**
 * The gateway's front door for `/v1`, before any body is read: a POST must be
 * `application/json` (415 otherwise: a browser form post needs no CORS preflight, so without
 * this any web page could spend the gateway's upstream key), and with inbound keys configured a
 * request must carry one as `Authorization: Bearer <key>` (401 otherwise). Keys are compared in
 * constant time and never forwarded: the upstream only ever sees the gateway's own key.
 *
 * @example
 * app.use(inboundGuard(config.inbound.apiKeys)); // before the body parser
 *
 * Node's request and response: Express middleware gets them, and so does Fastify's (middie).
 */
export function inboundGuard(apiKeys: readonly string[]) {
  const digests = apiKeys.map(digest);
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (!isApiPath(requestPath(req)) || req.method === 'OPTIONS') return next();
    if (digests.length > 0 && !knownKey(bearer(req), digests)) {
      return send(
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
    if (req.method === 'POST' && mediaType(req) !== 'application/json') {
      return send(
        res,
        openAiError(
          415,
          'invalid_request_error',
          'The request body must be JSON sent with Content-Type: application/json.',
          { code: 'unsupported_media_type' },
        ),
      );
    }
    next();
  };
}

function isApiPath(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
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

function send(res: ServerResponse, reply: OpenAiErrorReply): void {
  // The body is not read: the connection cannot be reused for the next request.
  sendJson(res, reply.status, reply.body, { ...reply.headers, connection: 'close' });
}
