import type { IncomingMessage } from 'node:http';
import { finished, type Readable } from 'node:stream';
import { bodyTaken } from './http-telemetry';

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

/** Error code of a body larger than {@link readWholeBody}'s bound. */
export const BODY_TOO_LARGE = 'ERR_BODY_TOO_LARGE';

/** Reads a whole response body as UTF-8, keeping at most `maxBytes`. */
export async function readBody(body: Readable, maxBytes = MAX_BODY_BYTES): Promise<string> {
  return (await readBytes(body, maxBytes)).toString('utf8');
}

/**
 * Reads a whole completion body, failing (rather than cutting) past `maxBytes`: a cut completion
 * would only fail later as invalid JSON, with a less useful message.
 */
export async function readWholeBody(body: Readable, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const bytes = await readBytes(body, maxBytes + 1);
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  throw Object.assign(new Error(`the body is larger than ${maxBytes} bytes`), {
    code: BODY_TOO_LARGE,
  });
}

/**
 * The whole body as UTF-8 when it has already arrived: the response's message is complete
 * (`IncomingMessage.complete`) and all of it waits, unread, in the stream's buffer, as it does
 * when the headers and a short body came in one read. Taken at once with `read()`, which also
 * ends the stream (its `end`, and the socket's return to the agent, follow on the next tick as
 * they do for any reader): no promise, no `data` listener, no tick between the body's arrival and
 * the caller's use of it. Undefined when the body is still arriving, larger than `maxBytes`,
 * decoded through a pipeline (not an `IncomingMessage`) or already being read: then
 * {@link readWholeBody} reads it.
 * The response's built-in `http.client.request.duration` ends when the body is taken
 * ({@link bodyTaken}), as a body read to its end would end it.
 *
 * @example
 * const text = receivedBody(res) ?? (await readWholeBody(res));
 */
export function receivedBody(body: Readable, maxBytes = MAX_BODY_BYTES): string | undefined {
  if (
    (body as Partial<IncomingMessage>).complete !== true ||
    body.destroyed ||
    body.readableFlowing === true ||
    body.readableObjectMode ||
    body.readableLength > maxBytes
  ) {
    return undefined;
  }
  const bytes = body.read() as Buffer | string | null;
  bodyTaken(body);
  if (bytes === null) return '';
  return typeof bytes === 'string' ? bytes : bytes.toString('utf8');
}

/**
 * The body's bytes, at most `maxBytes` (the rest is not read: the stream is destroyed). Listens to
 * `data` rather than iterating with `for await`, which costs a promise and a tick per chunk on
 * every call; `finished` reports the end, an error, or a close before the end
 * (`ERR_STREAM_PREMATURE_CLOSE`), as the iterator would.
 */
function readBytes(body: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error?: Error | null): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      stopWatching();
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (size + buffer.length > maxBytes) {
        chunks.push(buffer.subarray(0, maxBytes - size));
        size = maxBytes;
        settle();
        body.destroy();
        return;
      }
      chunks.push(buffer);
      size += buffer.length;
    };
    const stopWatching = finished(body, { writable: false }, (error) => settle(error));
    body.on('data', onData);
  });
}
