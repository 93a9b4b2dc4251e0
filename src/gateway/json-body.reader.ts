import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyLimitText } from './gateway.constants';
import { holdHeader, sendJson } from './http-exchange';
import { requestIdFor } from './inbound-call.options';
import { openAiError } from './openai-error.body';
import type { NodeMiddleware } from './inbound-guard.middleware';
import { bodyScan, scanRefusal } from './json-depth.scan';

type Next = (error?: unknown) => void;

const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;

/**
 * Express' JSON body parsing for the gateway, with a fast path for the request every chat call
 * is: a `Content-Type: application/json` body (UTF-8 or no charset), not compressed, with a
 * `Content-Length` within `limit`. That body is read and parsed here, without the per-request
 * work of body-parser (content-type parsing, type-is, raw-body, iconv). Every other request
 * (chunked, compressed, another charset, over the limit, another media type) goes to `fallback`,
 * Express' JSON parser, which answers it exactly as before (without one, to the next middleware).
 *
 * The fast path takes the body as Node's HTTP parser reads it: the request is read from at once
 * (`data`, and a `read(0)` so that the first part is handed over as the parser reads it instead
 * of a turn later), and the part that completes the declared length is the last one, so the body
 * is parsed and `next` called right there, without waiting for the message's end or a turn of
 * the event loop (a body that came with the headers is taken in the same read of the socket).
 * The stream still ends as it would for any reader (its `end`, which Nest, on-finished and the
 * HTTP instrumentation may wait for, follows), and a body that comes in parts is taken as it
 * arrives, so the socket keeps being read.
 *
 * On the fast path the results are body-parser's (with `strict: false`, as the gateway sets it):
 * an empty body is `{}`, a leading BOM is dropped, any JSON value is the body (the route says
 * when it is not an object), and a body that is not JSON fails with the same SyntaxError (status
 * 400, `type: 'entity.parse.failed'`, the same message), which Nest maps to a 400 and the
 * OpenAiErrorFilter answers as `invalid_json`. A client that leaves mid-body gets
 * body-parser's `request aborted` 400 (it is gone, so nobody reads it).
 *
 * @example
 * app.use(jsonBodyReader(GATEWAY_BODY_LIMIT_BYTES, express.json({ limit: GATEWAY_BODY_LIMIT, strict: false })));
 */
export function jsonBodyReader(limit: number, fallback?: NodeMiddleware) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const length = fastPathLength(req, limit);
    if (length !== undefined) readBody(req, length, next);
    else if (declaredOver(req, limit)) tooLarge(req, res, limit, next);
    else if (fallback) fallback(req, res, next);
    else next();
  };
}

/**
 * Fastify's counterpart of the early 413 below, as a middleware (middie runs it before Fastify's
 * own body limit, which answers before reading, so a client still sending met a broken pipe): a
 * JSON request declaring more than `limit` gets the gateway's 413 `payload_too_large`, after its
 * body was read and dropped when it is at most twice the limit, at once with its connection
 * closed beyond that.
 *
 * @example
 * app.use(inboundGuard(keys, refuseDeclaredOverLimit(GATEWAY_BODY_LIMIT_BYTES)));
 */
export function refuseDeclaredOverLimit(limit: number): NodeMiddleware {
  return (req, res, next) => {
    if (!declaredOver(req, limit)) return next();
    tooLarge(req, res, limit, () => {
      if (res.headersSent || res.destroyed) return;
      requestIdFor(req, res);
      const message = `The request body is larger than the gateway accepts (${bodyLimitText(limit)}).`;
      const reply = openAiError(413, 'invalid_request_error', message, {
        code: 'payload_too_large',
      });
      sendJson(res, reply.status, reply.body, reply.headers);
    });
  };
}

/** Whether a JSON request declares a `Content-Length` over `limit`. */
function declaredOver(req: IncomingMessage, limit: number): boolean {
  const declared = req.headers['content-length'];
  if (declared === undefined || !isJson(req.headers['content-type'])) return false;
  return Number(declared) > limit;
}

/**
 * body-parser's 413 for a declared length over the limit, without reading the body to its end
 * first (body-parser does, however long it is: the answer waited for a client that declared 1 GB
 * to send it all). A body up to twice the limit is read and dropped before the answer, so a client
 * still sending gets it (closing at once breaks its pipe, and OpenAI's SDKs send it again); a
 * longer one is answered at once and its connection closed.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number, next: Next): void {
  const length = Number(req.headers['content-length']);
  const error = httpError(413, 'request entity too large', {
    expected: length,
    length,
    limit,
    type: 'entity.too.large',
  });
  if (length > 2 * limit) {
    holdHeader(res, 'connection', 'close');
    req.resume();
    return next(error);
  }
  req.once('end', () => next(error));
  req.once('close', () => req.complete || next(error));
  req.resume();
}

function isJson(type: string | undefined): boolean {
  return type !== undefined && (type === 'application/json' || JSON_MEDIA_TYPE.test(type));
}

/** The declared length when the fast path takes the request, else undefined. */
function fastPathLength(req: IncomingMessage, limit: number): number | undefined {
  const { headers } = req;
  const type = headers['content-type'];
  if (type === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  if (!isJson(type)) return undefined;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
  const declared = headers['content-length'];
  if (declared === undefined) return undefined;
  // A stream someone else reads already (or as text) is left to body-parser, as it was.
  if (req.readableFlowing !== null || req.readableEncoding !== null) return undefined;
  // Node has checked the header is a decimal number; one over the limit gets body-parser's 413.
  const length = Number(declared);
  return Number.isSafeInteger(length) && length <= limit ? length : undefined;
}

function readBody(req: IncomingMessage, length: number, next: Next): void {
  const body = req as IncomingMessage & { body?: unknown };
  if (!('body' in body)) body.body = undefined;
  // Nothing to wait for: the stream is left to flow to its end on its own.
  if (length === 0) {
    req.resume();
    return next(parseBody(body, EMPTY, 0, 0));
  }
  // The parts taken before the last one (a body that came in several reads).
  let chunks: Buffer[] | undefined;
  let received = 0;
  const finish = (error?: unknown): void => {
    req.off('data', onData);
    req.off('close', onClose);
    next(error);
  };
  const onData = (chunk: Buffer): void => {
    // The declared length is the whole body: Node's parser never delivers more, so the part that
    // reaches it is the last one, whether or not the parser has marked the message complete yet.
    if (received + chunk.length < length) {
      (chunks ??= []).push(chunk);
      received += chunk.length;
      return;
    }
    if (chunks === undefined) return finish(parseBody(body, chunk, chunk.length, length));
    chunks.push(chunk);
    received += chunk.length;
    finish(parseBody(body, Buffer.concat(chunks, received), received, length));
  };
  // Closed before the whole body came: the client left mid-body (or the request was destroyed).
  const onClose = (): void => finish(aborted(length, received + req.readableLength));
  req.on('data', onData);
  req.on('close', onClose);
  // Marks the stream as read from: from now on Node hands each part over as the parser reads it
  // (without it, the first part waits a turn for the stream's flow to start).
  req.read(0);
}

const EMPTY = Buffer.alloc(0);

/** Parses a whole body into `req.body`; the error to pass on, if any. */
function parseBody(
  req: { body?: unknown },
  raw: Buffer,
  received: number,
  length: number,
): Error | undefined {
  // Node's parser never delivers more than Content-Length, and less only when the client left.
  if (received !== length) return aborted(length, received);
  const scan = bodyScan();
  if (!scan.push(raw)) return scanRefusal(scan);
  const text = decode(raw);
  try {
    req.body = parse(text);
    return undefined;
  } catch (error) {
    return parseFailed(error as SyntaxError, text);
  }
}

/** UTF-8 without a leading BOM, as body-parser's decoder gives it. */
function decode(raw: Buffer): string {
  // UTF-8 is toString's default: without an argument it goes straight to the decoder.
  const text = raw.toString();
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * body-parser's JSON parse with `strict: false`: `{}` for nothing, else any JSON value (a valid
 * `null`, string or number is the chat route's 400 "must be a JSON object", not a parse error).
 */
function parse(text: string): unknown {
  if (text.length === 0) return {};
  return JSON.parse(text) as unknown;
}

/** As body-parser passes a parse failure on: the SyntaxError, marked as an http error. */
function parseFailed(error: SyntaxError, text: string): SyntaxError {
  return Object.assign(error, {
    status: 400,
    statusCode: 400,
    expose: true,
    body: text,
    type: 'entity.parse.failed',
  });
}

function aborted(expected: number, received: number): Error {
  return httpError(400, 'request aborted', {
    code: 'ECONNABORTED',
    expected,
    length: expected,
    received,
    type: 'request.aborted',
  });
}

function httpError(status: number, message: string, properties: object): Error {
  return Object.assign(new Error(message), {
    status,
    statusCode: status,
    expose: true,
    ...properties,
  });
}
