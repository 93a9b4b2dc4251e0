import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * The gateway runs on Express or Fastify (GATEWAY_HTTP_PLATFORM). Express' request and response
 * ARE Node's `IncomingMessage` and `ServerResponse`; Fastify's wrap them as `raw`. The gateway
 * reads and writes the Node objects, so every route answers the same bytes on both platforms.
 */
export type PlatformRequest = IncomingMessage | FastifyRequestLike;
/** Express' response or Fastify's reply, as Nest hands them to `@Res()` and to filters. */
export type PlatformResponse = ServerResponse | FastifyReplyLike;

interface FastifyRequestLike {
  raw: IncomingMessage;
  body?: unknown;
}
interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  hijack(): unknown;
  getHeaders(): Record<string, unknown>;
}

function isFastifyReply(res: PlatformResponse): res is FastifyReplyLike {
  return 'raw' in res && typeof res.hijack === 'function';
}

/** Node's request. */
export function rawRequest(req: PlatformRequest): IncomingMessage {
  return 'raw' in req ? req.raw : req;
}

/** The parsed body (both platforms keep it as `body` on their own request object). */
export function requestBody(req: PlatformRequest): unknown {
  return (req as { body?: unknown }).body;
}

/** The path without the query, as the client sent it (e.g. `/v1/chat/completions`). */
export function requestPath(req: PlatformRequest): string {
  const raw = rawRequest(req) as IncomingMessage & { originalUrl?: string };
  const url = raw.originalUrl ?? raw.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Takes the response over from the platform and returns Node's: the caller writes it from now
 * on. On Fastify the reply is hijacked (Fastify sends nothing more), and the headers its hooks
 * already set on the reply (CORS) move to Node's response.
 *
 * @example
 * const res = rawResponse(reply);
 * sendJson(res, 200, completion, { 'x-llm-attempts': '1' });
 */
export function rawResponse(res: PlatformResponse): ServerResponse {
  if (!isFastifyReply(res)) return res;
  if (!res.sent) {
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (value !== undefined && !res.raw.hasHeader(name)) {
        res.raw.setHeader(name, value as string | number | readonly string[]);
      }
    }
    res.hijack();
  }
  return res.raw;
}

/** Answers `body` as JSON (`application/json; charset=utf-8`, with its length). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** Answers `text` with the given content type. */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
