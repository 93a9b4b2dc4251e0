import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { isLlmError, type LlmChatStream } from '../llm/index';
import { receivedJson } from '../llm/client/received-json';
import { hasContent } from '../llm/client/stream-attempt';
import { fromLlmError } from './llm-error.mapping';
import { openAiError, type OpenAiErrorBody } from './openai-error.body';

const logger = new Logger('SseResponseWriter');

/**
 * Relays a started {@link LlmChatStream} as OpenAI's server-sent events: one `data: <chunk>`
 * event per chunk, then `data: [DONE]`. A failure after the headers went out cannot change the
 * status any more, so it becomes an `data: {"error":...}` event and the stream ends WITHOUT
 * `[DONE]`: OpenAI SDKs raise on that event, and any client sees the answer is incomplete. A
 * slow reader pauses the upstream read (backpressure) instead of growing our buffers.
 *
 * The response's headers should be set, not flushed: `ready()` resolved, so the first content
 * chunk is at hand, and the headers leave with it in one write (one packet with `TCP_NODELAY`)
 * instead of a header write of their own before it, which cost about 0.1 ms before the first
 * content reached the client.
 *
 * The response's socket is corked from the first write to the first content chunk's, and
 * uncorked right after it: the headers, the chunks before content and the first content leave
 * in one write at that moment. Left to Node, each write corks the socket until the next tick,
 * which comes only once every pending microtask ran, and those include parsing, re-serialising
 * and writing the rest of the upstream read (a bunched read holds a whole short answer): the
 * first content waited for them. The cork is always undone, at the first content, before a wait
 * for `drain`, or when the stream ends or fails.
 *
 * @example
 * await stream.ready(); // errors before this point are plain JSON error responses
 * writeHead(res, 200, { 'content-type': 'text/event-stream' }); // set, not yet written
 * await writeSseResponse(stream, res, signal);
 */
export async function writeSseResponse(
  stream: LlmChatStream,
  res: ServerResponse,
  signal: AbortSignal,
  /** A client that drains nothing for this long is cut off (GATEWAY_SEND_TIMEOUT_MS). */
  sendTimeoutMs = 60_000,
): Promise<void> {
  // The socket, not the response, is corked up to the first content chunk (see above): a corked
  // response on Node 24 keeps its chunks aside and sends them after the socket's uncork, in four
  // writes of their own (size line, CRLF, data, CRLF).
  const socket = res.socket;
  let corked = socket !== null;
  const flush = (): void => {
    if (!corked) return;
    corked = false;
    socket?.uncork();
  };
  socket?.cork();
  // The events before the first content (a role chunk, empty deltas: bounded by the stream's
  // MAX_HEAD_CHARS), written with it in one `res.write`: one chunk of the response, not one each.
  let head = '';
  try {
    for await (const chunk of stream) {
      // The client left: leaving the loop aborts the upstream request.
      if (res.destroyed) return;
      // The chunk's text as the upstream sent it (one line), not serialised again.
      const event = `data: ${receivedJson(chunk, true)}\n\n`;
      if (corked && !hasContent(chunk)) {
        head += event;
        continue;
      }
      const room = res.write(head === '' ? event : head + event);
      head = '';
      flush();
      if (!room) await drained(res, signal, sendTimeoutMs);
    }
  } catch (error) {
    flush();
    if (res.destroyed || signal.aborted) return;
    res.end(`${head}data: ${JSON.stringify(errorEvent(error))}\n\n`);
    return;
  } finally {
    flush();
  }
  if (!res.destroyed) res.end(`${head}data: [DONE]\n\n`);
}

function errorEvent(error: unknown): OpenAiErrorBody {
  if (isLlmError(error)) {
    logger.warn(`Stream ended early (${error.kind}): ${error.message}`);
    return fromLlmError(error).body;
  }
  logger.error('Stream failed unexpectedly', error instanceof Error ? error.stack : String(error));
  return openAiError(500, 'server_error', 'The gateway failed unexpectedly; see its log.', {
    code: 'internal_error',
  }).body;
}

/**
 * Resolves when the socket buffer drained, or at once when the client has gone. A client that
 * drains nothing within `timeoutMs` is cut off (its connection destroyed): without it, one that
 * stopped reading held its connection, and the stream below it, as long as it liked.
 */
function drained(res: ServerResponse, signal: AbortSignal, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted || res.destroyed) return resolve();
    const timer = setTimeout(() => {
      logger.warn(`A stream's client took nothing for ${timeoutMs} ms; its connection is closed.`);
      res.destroy();
      done();
    }, timeoutMs);
    res.once('drain', done);
    res.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
