import type { IncomingMessage, ServerResponse } from 'node:http';

type Next = (error?: unknown) => void;

const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;
// JSON's whitespace, as body-parser skips it before the first character.
// eslint-disable-next-line no-control-regex
const FIRST_NON_WHITESPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/**
 * Express' JSON body parsing for the gateway, with a fast path for the request every chat call
 * is: a `Content-Type: application/json` body (UTF-8 or no charset), not compressed, with a
 * `Content-Length` within `limit`. That body is read and parsed here, without the per-request
 * work of body-parser (content-type parsing, type-is, raw-body, iconv). Every other request
 * (chunked, compressed, another charset, over the limit, another media type) is left to
 * Express' JSON parser registered after this one, which answers it exactly as before; that
 * parser skips a body already read here.
 *
 * On the fast path the results are body-parser's: an empty body is `{}`, a leading BOM is
 * dropped, a body that does not start with `{` or `[` or is not JSON fails with the same
 * SyntaxError (status 400, `type: 'entity.parse.failed'`, the same message), which Nest maps to
 * a 400 and the OpenAiErrorFilter answers as `invalid_json`. A client that leaves mid-body gets
 * body-parser's `request aborted` 400 (it is gone, so nobody reads it).
 *
 * @example
 * app.use(jsonBodyReader(GATEWAY_BODY_LIMIT_BYTES));
 * app.useBodyParser('json', { limit: GATEWAY_BODY_LIMIT }); // everything else
 */
export function jsonBodyReader(limit: number) {
  return (req: IncomingMessage, _res: ServerResponse, next: Next): void => {
    const length = fastPathLength(req, limit);
    if (length === undefined) return next();
    readBody(req, length, next);
  };
}

/** The declared length when the fast path takes the request, else undefined. */
function fastPathLength(req: IncomingMessage, limit: number): number | undefined {
  const { headers } = req;
  const type = headers['content-type'];
  if (type === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  if (type !== 'application/json' && !JSON_MEDIA_TYPE.test(type)) return undefined;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
  const declared = headers['content-length'];
  if (declared === undefined) return undefined;
  // Node has checked the header is a decimal number; one over the limit gets body-parser's 413.
  const length = Number(declared);
  return Number.isSafeInteger(length) && length <= limit ? length : undefined;
}

function readBody(req: IncomingMessage, length: number, next: Next): void {
  const body = req as IncomingMessage & { body?: unknown };
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const finish = (error?: unknown): void => {
    if (settled) return;
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('aborted', onAborted);
    req.off('close', onClose);
    req.off('error', onError);
    next(error);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = (): void => {
    // Node's parser never delivers more than Content-Length, and less only when the client left.
    if (received !== length) return finish(aborted(length, received));
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    const text = decode(raw);
    try {
      body.body = parse(text);
    } catch (error) {
      return finish(parseFailed(error as SyntaxError, text));
    }
    finish();
  };
  const onAborted = (): void => finish(aborted(length, received));
  const onClose = (): void => {
    if (!req.complete) finish(aborted(length, received));
  };
  const onError = (error: Error): void =>
    finish(httpError(400, error.message, { type: 'request.aborted' }));
  if (!('body' in body)) body.body = undefined;
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('aborted', onAborted);
  req.on('close', onClose);
  req.on('error', onError);
}

/** UTF-8 without a leading BOM, as body-parser's decoder gives it. */
function decode(raw: Buffer): string {
  const text = raw.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** body-parser's strict JSON parse: `{}` for nothing, only an object or an array at the top. */
function parse(text: string): unknown {
  if (text.length === 0) return {};
  if (text[0] !== '{' && text[0] !== '[') {
    const first = FIRST_NON_WHITESPACE.exec(text)?.[1] || undefined;
    if (first !== '{' && first !== '[') throw strictSyntaxError(text, first);
  }
  return JSON.parse(text) as unknown;
}

/**
 * body-parser's error for a body that starts with something else than `{` or `[`: the message
 * JSON.parse gives for the first character, as if the rest were valid.
 */
function strictSyntaxError(text: string, first: string | undefined): SyntaxError {
  const index = first === undefined ? -1 : text.indexOf(first);
  const partial = index === -1 ? '' : text.slice(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
    return new SyntaxError('strict violation');
  } catch (error) {
    const syntax = error as SyntaxError;
    const message = syntax.message.replace(/#+/g, (placeholder) =>
      text.slice(index, index + placeholder.length),
    );
    syntax.stack = syntax.stack?.replace(syntax.message, message);
    syntax.message = message;
    return syntax;
  }
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
