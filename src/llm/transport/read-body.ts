import type { Readable } from 'node:stream';

/** Error bodies and completions above this are cut: a proxy's error page must not fill memory. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Reads a whole response body as UTF-8, keeping at most `maxBytes`. */
export async function readBody(body: Readable, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (size + buffer.length > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size));
      body.destroy();
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
