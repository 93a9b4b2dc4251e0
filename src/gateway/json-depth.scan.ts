import { Transform, type TransformCallback } from 'node:stream';
import { LLM_REQUEST_BOUNDS } from '../llm/client/request-bounds';

/**
 * Deepest nesting of arrays and objects a request body may have before it is parsed: twice what
 * the module takes (`LLM_REQUEST_BOUNDS.maxDepth`), so that a body between the two still gets
 * the module's 400 naming the field, while one nested thousands deep is refused before
 * `JSON.parse` spends seconds on it (9 MB of `[` took the event loop 4–12 s; nothing else was
 * served meanwhile).
 */
export const MAX_BODY_DEPTH = LLM_REQUEST_BOUNDS.maxDepth * 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Follows the nesting of JSON text as it arrives, part by part, without parsing it: brackets and
 * braces outside strings. Strings are skipped with native searches for their end, so a body of
 * long strings (prompts) costs little; a body that is not JSON is left for the parser to refuse.
 *
 * @example
 * const scan = new JsonDepthScan(128);
 * if (!scan.push(body)) refuse(); // nests deeper than 128
 */
export class JsonDepthScan {
  private depth = 0;
  private inString = false;
  /** The previous part ended inside a string, on a backslash: its next byte is escaped. */
  private escaped = false;

  constructor(private readonly maxDepth: number = MAX_BODY_DEPTH) {}

  /** Takes the next part; false once the text has nested deeper than the maximum. */
  push(part: Buffer): boolean {
    let i = 0;
    const length = part.length;
    if (this.escaped) {
      this.escaped = false;
      i = 1;
    }
    // The next quote and backslash at or after `i`, each searched again only once `i` has passed
    // it: every byte is searched once, so the scan is linear in the body (searching both afresh
    // at every string read to the body's end each time: 3 MB took 19 s).
    let quote = -1;
    let backslash = -1;
    while (i < length) {
      if (this.inString) {
        if (quote !== length && quote < i) quote = found(part.indexOf(QUOTE, i), length);
        if (backslash !== length && backslash < i) {
          backslash = found(part.indexOf(BACKSLASH, i), length);
        }
        if (backslash < quote) {
          // An escape: its next byte (perhaps in the next part) is not the string's end.
          if (backslash + 1 >= length) {
            this.escaped = true;
            return true;
          }
          i = backslash + 2;
          continue;
        }
        if (quote === length) return true;
        this.inString = false;
        i = quote + 1;
        continue;
      }
      const byte = part[i]!;
      if (byte === QUOTE) this.inString = true;
      else if (byte === 0x5b || byte === 0x7b) {
        if (++this.depth > this.maxDepth) return false;
      } else if (byte === 0x5d || byte === 0x7d) this.depth--;
      i++;
    }
    return true;
  }
}

/** A search's result, with "none" as the part's length (past every index). */
function found(index: number, length: number): number {
  return index === -1 ? length : index;
}

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
  if (!new JsonDepthScan().push(body)) throw tooDeepError();
}

/** body-parser's own refusal of a charset, as the error filter answers it (415). */
function unsupportedCharsetError(charset: string): Error {
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
  const scan = new JsonDepthScan();
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
