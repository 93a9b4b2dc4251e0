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

/** The parser's error for a body nested too deep: a 400 that the error filter names. */
export function tooDeepError(): Error {
  return Object.assign(new Error(`deeper than ${MAX_BODY_DEPTH}`), {
    status: 400,
    statusCode: 400,
    expose: true,
    type: 'entity.too.deep',
    code: 'entity.too.deep',
  });
}

/**
 * body-parser's `verify` hook: refuses a body nested too deep before it is parsed.
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
  if (!new JsonDepthScan(MAX_BODY_DEPTH).push(body)) throw tooDeepError();
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
 * A pass-through for a body stream (Fastify's `preParsing`) that fails with {@link tooDeepError}
 * as soon as the body nests too deep, before the rest is read or any of it parsed.
 */
export function depthCheckedStream(body: NodeJS.ReadableStream): Transform {
  const scan = new JsonDepthScan(MAX_BODY_DEPTH);
  const checked = new Transform({
    transform(part: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      if (scan.push(part)) return done(null, part);
      // The rest is read and dropped, so a client still sending gets the answer, not a broken pipe.
      body.unpipe(checked);
      body.resume();
      done(tooDeepError());
    },
  });
  return body.pipe(checked);
}
