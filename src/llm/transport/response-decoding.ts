import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';

/** The encodings a request accepts: the ones {@link decodedBody} decodes. */
export const ACCEPT_ENCODING = 'gzip, compress, deflate, br';

/** Flush whatever is decoded: an SSE event must not wait in the decoder for more input. */
const ZLIB_OPTIONS = {
  flush: zlib.constants.Z_SYNC_FLUSH,
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
};
const BROTLI_OPTIONS = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

/**
 * The response body, decompressed when the upstream (or a proxy before it) sent it compressed;
 * the response itself when not, or when its encoding is one this does not know (the caller then
 * sees the `content-encoding` header). A socket error on the response reaches the returned stream.
 * `encoding` is the response's `content-encoding`, when the caller has read it already.
 */
export function decodedBody(
  res: IncomingMessage,
  encoding: string | undefined = res.headers['content-encoding'],
): Readable {
  if (encoding === undefined || res.statusCode === 204) return res;
  const decoders = decodersFor(encoding.toLowerCase());
  if (decoders === undefined) return res;
  return pipeline([res, ...decoders], () => {}) as unknown as Readable;
}

function decodersFor(encoding: string): Transform[] | undefined {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      return [zlib.createUnzip(ZLIB_OPTIONS)];
    case 'deflate':
      return [new ZlibHeaderTransform(), zlib.createUnzip(ZLIB_OPTIONS)];
    case 'br':
      return [zlib.createBrotliDecompress(BROTLI_OPTIONS)];
    case 'zstd':
      // Not asked for, but decoded when sent anyway, where this Node has a decoder (>= 22.15).
      return typeof zlib.createZstdDecompress === 'function'
        ? [zlib.createZstdDecompress()]
        : undefined;
    default:
      return undefined;
  }
}

/**
 * `deflate` is meant to be zlib-wrapped but some servers send it raw: a zlib header is put in
 * front of a body that starts without one, so one decoder reads both.
 */
class ZlibHeaderTransform extends Transform {
  private seen = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.seen && chunk.length > 0) {
      this.seen = true;
      // 0x78 starts every zlib header; 0x78 0x9c is the default compression level's.
      if (chunk[0] !== 0x78) this.push(Buffer.from([0x78, 0x9c]));
    }
    callback(null, chunk);
  }
}
