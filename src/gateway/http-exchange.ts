import type {
  IncomingMessage,
  OutgoingHttpHeader,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import { receivedJson } from '../llm/client/received-json';
import { putHeader } from '../llm/transport/header-list';

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

/**
 * Answers `body` as JSON (`application/json; charset=utf-8`, with its length). A completion as the
 * upstream sent it goes out as the text it was parsed from ({@link receivedJson}).
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(res, status, 'application/json; charset=utf-8', receivedJson(body), headers);
}

/** Answers `text` with the given content type. */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const list = headList(res, headers);
  putHeader(list, 'content-type', contentType);
  // As text: Node validates a number and then writes it, converting it to text twice.
  putHeader(list, 'content-length', String(Buffer.byteLength(text)));
  writeHeadList(res, status, list);
  res.end(text);
}

/**
 * Sets the response's status and headers (with those held by {@link holdHeader} first), to be
 * written with the first body chunk: the head of a response whose body is written bit by bit.
 *
 * @example
 * writeHead(res, 200, { 'content-type': 'text/event-stream; charset=utf-8' });
 * res.write('data: {}\n\n');
 */
export function writeHead(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
  writeHeadList(res, status, headList(res, headers));
}

/** Headers a response's head carries, held until {@link send} or {@link writeHead} writes it. */
const HELD = Symbol('heldHeaders');
interface Holding {
  [HELD]?: OutgoingHttpHeader[];
}

/**
 * `res.setHeader(name, value)` for a response that {@link send} or {@link writeHead} answers: the
 * header is held aside and written with the others in one go (see {@link writeHeadList}). A
 * response answered otherwise does not carry it.
 *
 * @example
 * holdHeader(res, 'x-request-id', requestId); // every later sendJson(res, ...) carries it
 */
export function holdHeader(res: ServerResponse, name: string, value: string): void {
  const holding = res as Holding;
  const held = holding[HELD];
  if (held === undefined) holding[HELD] = [name, value];
  else putHeader(held, name, value);
}

/** The value of a header {@link holdHeader} holds for `res`, if any. */
export function heldHeader(res: ServerResponse, name: string): string | undefined {
  const held = (res as Holding)[HELD];
  if (held === undefined) return undefined;
  for (let i = 0; i < held.length; i += 2) {
    if ((held[i] as string).toLowerCase() === name) return String(held[i + 1]);
  }
  return undefined;
}

/** The held headers, then `headers`, as a flat list `[name, value, ...]`. */
function headList(res: ServerResponse, headers: OutgoingHttpHeaders): OutgoingHttpHeader[] {
  const held = (res as Holding)[HELD];
  const list: OutgoingHttpHeader[] = held === undefined ? [] : held.slice();
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) putHeader(list, name, value);
  }
  return list;
}

/**
 * Gives the response its status and headers. When nothing set a header before (the gateway's
 * default: no CORS, the request id held), the list goes to `res.writeHead`, which writes it as it
 * is: each header validated once, no per-header map entry. Otherwise (CORS headers, Fastify's
 * copied ones) each is set after those as `setHeader` does, which keeps every name's place.
 * The bytes are the same either way: names as given, in this order, after any set before.
 */
function writeHeadList(res: ServerResponse, status: number, list: OutgoingHttpHeader[]): void {
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, list);
    return;
  }
  res.statusCode = status;
  for (let i = 0; i < list.length; i += 2) {
    res.setHeader(list[i] as string, list[i + 1] as string | number | readonly string[]);
  }
}
