import type { Readable } from 'node:stream';

/**
 * Completions above this are cut (and then fail to parse): generous, since long outputs with
 * logprobs are large, but bounded. Streams have no total cap: their time and idle limits bound them.
 */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Error bodies are read up to this and the rest is dropped unread: a proxy's 50 MB error page
 * must not be downloaded on every retry. OpenAI's error JSON is a few hundred bytes.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

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

/**
 * Reads a whole completion body, failing (rather than cutting) past `maxBytes`: a cut completion
 * would only fail later as invalid JSON, with a less useful message.
 */
export async function readWholeBody(body: Readable, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const text = await readBody(body, maxBytes + 1);
  if (Buffer.byteLength(text) <= maxBytes) return text;
  throw Object.assign(new Error(`maxContentLength size of ${maxBytes} exceeded`), {
    code: 'ERR_BODY_TOO_LARGE',
  });
}
