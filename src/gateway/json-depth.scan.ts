import { Transform, type TransformCallback } from 'node:stream';
import { LLM_REQUEST_BOUNDS } from '../llm/client/request-bounds';
import { JsonDepthScan } from '../llm/transport/json-depth.scan';

export { JsonDepthScan };

/**
 * Deepest nesting of arrays and objects a request body may have before it is parsed: twice what
 * the module takes (`LLM_REQUEST_BOUNDS.maxDepth`), so that a body between the two still gets
 * the module's 400 naming the field, while one nested thousands deep is refused before
 * `JSON.parse` spends seconds on it (9 MB of `[` took the event loop 4–12 s; nothing else was
 * served meanwhile).
 */
export const MAX_BODY_DEPTH = LLM_REQUEST_BOUNDS.maxDepth * 2;

/**
 * Most object members (key-value pairs, all objects together) a request body may hold before it
 * is parsed. `JSON.parse` makes a hidden class for every new key: 9.5 MB of small objects with
 * distinct keys (800,000 of them) held the event loop 3.7 s on Node 24, and one object with
 * 800,000 keys 1.2 s. At this bound the worst layout parses in under 200 ms, less than 10 MB of
 * ordinary small objects takes. A chat request of 4,096 messages, each with a dozen members and
 * content parts, holds about 50,000; 128 tools with their schemas some thousands.
 */
export const MAX_BODY_MEMBERS = 100_000;

/**
 * Most objects and arrays a request body may hold, and most values after the first of each
 * (commas), before it is parsed. Empty ones cost `JSON.parse` an object each with nothing to key:
 * 3.3 million `{}` in 9.9 MB held the event loop 2 s, 5 million `0` elements 0.4 s. A conversation
 * of 4,000 messages of 10 content parts holds 48,002 objects and arrays and 83,999 commas.
 */
export const MAX_BODY_CONTAINERS = 100_000;
export const MAX_BODY_COMMAS = 1_000_000;

/** A scan of a request body against the nesting and count bounds above. */
export function bodyScan(): JsonDepthScan {
  return new JsonDepthScan(MAX_BODY_DEPTH, {
    members: MAX_BODY_MEMBERS,
    containers: MAX_BODY_CONTAINERS,
    commas: MAX_BODY_COMMAS,
  });
}

/** The parser's error for a body nested too deep: a 400 that the error filter names. */
export function tooDeepError(): Error {
  return refusedError(`deeper than ${MAX_BODY_DEPTH}`, 'entity.too.deep');
}

/** The parser's error for a body with too many object members: a 400 that the error filter names. */
export function tooManyMembersError(): Error {
  return refusedError(`more than ${MAX_BODY_MEMBERS} members`, 'entity.too.many.members');
}

/** The parser's error for a body with too many values: a 400 that the error filter names. */
export function tooManyValuesError(): Error {
  return refusedError('too many values', 'entity.too.many.values');
}

/** The error for the bound a {@link bodyScan} refused the body on. */
export function scanRefusal(scan: JsonDepthScan): Error {
  if (scan.refused === 'members') return tooManyMembersError();
  if (scan.refused === 'depth') return tooDeepError();
  return tooManyValuesError();
}

function refusedError(message: string, type: string): Error {
  return Object.assign(new Error(message), {
    status: 400,
    statusCode: 400,
    expose: true,
    type,
    code: type,
  });
}

/**
 * body-parser's `verify` hook: refuses a body nested too deep, or with too many object members,
 * before it is parsed.
 *
 * @example
 * express.json({ verify: refuseTooDeep });
 */
export function refuseTooDeep(
  _req: unknown,
  _res: unknown,
  body: Buffer,
  encoding: string | null,
): void {
  // The scan reads UTF-8 bytes: in UTF-16 a character such as U+2200 holds a quote byte, and
  // the nesting after it went uncounted. JSON is UTF-8 (RFC 8259); OpenAI's clients send nothing else.
  const charset = (encoding ?? 'utf-8').toLowerCase();
  if (charset !== 'utf-8' && charset !== 'utf8') throw unsupportedCharsetError(charset);
  const scan = bodyScan();
  if (!scan.push(body)) throw scanRefusal(scan);
}

/** body-parser's own refusal of a charset, as the error filter answers it (415). */
export function unsupportedCharsetError(charset: string): Error {
  return Object.assign(new Error(`unsupported charset "${charset.slice(0, 40).toUpperCase()}"`), {
    status: 415,
    statusCode: 415,
    expose: true,
    charset,
    type: 'charset.unsupported',
  });
}

/**
 * A pass-through for a body stream (Fastify's `preParsing`) that fails with {@link scanRefusal}'s
 * error as soon as the body nests too deep or holds too many object members, before the rest is
 * read or any of it parsed.
 */
export function depthCheckedStream(body: NodeJS.ReadableStream): Transform {
  const scan = bodyScan();
  const checked = new Transform({
    transform(part: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      if (scan.push(part)) return done(null, part);
      // The rest is read and dropped, so a client still sending gets the answer, not a broken pipe.
      body.unpipe(checked);
      body.resume();
      done(scanRefusal(scan));
    },
  });
  return body.pipe(checked);
}
