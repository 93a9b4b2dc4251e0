import { type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { depthCheckedStream, unsupportedCharsetError } from './json-depth.scan';

/**
 * A request body as Fastify's parser should read it (its `preParsing` hook): decoded when it came
 * with `Content-Encoding` gzip, deflate or br, as Express' body parser decodes it, then scanned for
 * its nesting. Fastify's body limit counts the decoded bytes, so a small bomb is refused at the
 * limit; the encoded length it compares with `Content-Length` is counted here
 * (`receivedEncodedLength`, Fastify's contract for a hook that transforms the body).
 *
 * A charset other than UTF-8 is refused with Express' 415 `unsupported_charset` (Fastify's parser
 * read any body as UTF-8, whatever its `Content-Type` said).
 *
 * @returns the stream to parse, or the 415 for an encoding or charset the gateway does not read
 */
export function decodedRequestBody(
  body: NodeJS.ReadableStream,
  contentEncoding: string | string[] | undefined,
  contentType?: string,
): Transform | Error {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8') return unsupportedCharsetError(charset);
  const encoding = String(contentEncoding ?? 'identity')
    .trim()
    .toLowerCase();
  if (encoding === 'identity' || encoding === '') return depthCheckedStream(body);
  const decoder = decoderFor(encoding);
  if (decoder === undefined) return unsupportedEncodingError(encoding);
  const checked = depthCheckedStream(body.pipe(decoder)) as Transform & {
    receivedEncodedLength: number;
  };
  checked.receivedEncodedLength = 0;
  body.on('data', (part: Buffer) => (checked.receivedEncodedLength += part.length));
  // A body that does not decompress: zlib's error (Z_DATA_ERROR), a 400 the error filter names.
  decoder.on('error', (error: Error & { code?: string }) => {
    body.unpipe(decoder);
    body.resume(); // the rest is read and dropped: the client gets the answer, not a broken pipe
    checked.destroy(undecodableError(error));
  });
  return checked;
}

/**
 * One `; name=value` parameter of a media type (RFC 9110): a token, or a quoted string with its
 * escapes. The grammar body-parser's `content-type` parser reads.
 */
const MEDIA_TYPE_PARAMETER =
  /; *([!#$%&'*+.^_`|~0-9A-Za-z-]+) *= *("(?:[\t\u0020\u0021\u0023-\u005b\u005d-\u007e\u0080-\u00ff]|\\[\t\u0020-\u00ff])*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+) */gy;

/**
 * The `charset` of a `Content-Type` in lower case, as Express' JSON parser reads it: undefined
 * when there is none, when it is empty, or when the header's parameters do not parse (Express then
 * reads the body as UTF-8, and so does Fastify's parser).
 */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const start = contentType.indexOf(';');
  if (start === -1) return undefined;
  let end = contentType.length;
  while (end > start && (contentType[end - 1] === ' ' || contentType[end - 1] === '\t')) end--;
  const text = contentType.slice(0, end);
  let charset: string | undefined;
  MEDIA_TYPE_PARAMETER.lastIndex = start;
  while (MEDIA_TYPE_PARAMETER.lastIndex < text.length) {
    const found = MEDIA_TYPE_PARAMETER.exec(text);
    if (found === null) return undefined;
    if (found[1]!.toLowerCase() !== 'charset') continue;
    const value = found[2]!;
    charset = value.startsWith('"')
      ? value.slice(1, -1).replace(/\\([\t\u0020-\u00ff])/g, '$1')
      : value;
  }
  return charset ? charset.toLowerCase() : undefined;
}

function decoderFor(encoding: string): Transform | undefined {
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

/** zlib's refusal of a body, as body-parser reports it (a 400 the error filter names). */
function undecodableError(error: Error & { code?: string }): Error {
  return Object.assign(new Error(error.message), {
    status: 400,
    statusCode: 400,
    expose: true,
    type: error.code ?? 'Z_DATA_ERROR',
    code: error.code ?? 'Z_DATA_ERROR',
  });
}

/** body-parser's refusal of an encoding, as the error filter answers it (415). */
function unsupportedEncodingError(encoding: string): Error {
  return Object.assign(new Error(`unsupported content encoding "${encoding.slice(0, 40)}"`), {
    status: 415,
    statusCode: 415,
    expose: true,
    type: 'encoding.unsupported',
    code: 'encoding.unsupported',
  });
}
