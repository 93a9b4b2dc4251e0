import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { openAiError } from './openai-error.body';

/** What Node's HTTP parser refused, by its error code, as OpenAI-shaped answers. */
const ANSWERS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    message: 'The request headers are larger than the gateway accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    message: 'The request was not received in full in time.',
  },
};

const MALFORMED = {
  status: 400,
  code: 'malformed_request',
  message:
    'The request is not valid HTTP/1.1 (its request line, a header, or its framing); nothing was ' +
    'read from it.',
};

/**
 * Answers what Node's HTTP parser refuses before any route sees it (a header too large, a control
 * character in a header, both Content-Length and Transfer-Encoding, a request not received in
 * time) in OpenAI's error shape, as every other gateway answer is, instead of Node's empty 400,
 * 408 or 431: OpenAI's SDKs then raise their usual typed error with a message. The connection is
 * closed after it, as Node's own answer does. Nothing of the request is echoed.
 *
 * @example
 * answerClientErrors(app.getHttpServer());
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', answerClientError);
}

/**
 * One refusal of Node's parser, answered (see {@link answerClientErrors}); Fastify takes it as its
 * `clientErrorHandler`, since its own listener, registered first, would answer in its shape.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // Nothing can be said on a socket that is gone, or within an answer already begun.
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, code, message } = ANSWERS[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify(openAiError(status, 'invalid_request_error', message, { code }).body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      // Every answer carries one; nothing of the request could be read, so a new one.
      `x-request-id: ${randomUUID()}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
