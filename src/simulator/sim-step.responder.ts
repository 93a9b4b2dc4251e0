import type { Socket } from 'node:net';
import { processingHeaders, sendMalformed, sendReply, type ReplyTarget } from './chat-reply.sender';
import { buildReply } from './completion.factory';
import { sendError, sleep } from './http.io';
import { defaultErrorFor } from './openai-error.body';
import type { SimErrorStep, SimStep } from './simulator.types';
import { writeSseStream } from './sse-stream.writer';

/**
 * Answers a chat request with a scripted step, after the step's latency (or the simulator's).
 * Resolves when the answer is complete, the client left, or the simulator closed.
 *
 * @example
 * await respondWithStep({ type: 'error', status: 503 }, target, { latencyMs: 0, models });
 */
export async function respondWithStep(
  step: SimStep,
  target: ReplyTarget,
  defaults: { latencyMs: number; models: readonly string[] },
): Promise<void> {
  const { res, request, signal } = target;
  if (!(await sleep(step.latencyMs ?? defaults.latencyMs, signal))) return;
  switch (step.type) {
    case 'ok':
      return sendReply(target, buildReply(request, defaults.models, step), step.headers);
    case 'error':
      return sendStepError(step, target);
    case 'hang':
      // Never answers: the wait ends only when the client leaves or close() destroys the socket.
      await sleep(Infinity, signal);
      return;
    case 'reset':
      // RST instead of FIN, so the client sees ECONNRESET as with a dropped upstream connection.
      resetSocket(res.socket);
      return;
    case 'malformed':
      return sendMalformed(target, buildReply(request, defaults.models));
    case 'stream': {
      const reply = buildReply(request, defaults.models, step);
      const headers = processingHeaders(target);
      return writeSseStream(res, reply, step, request.includeUsage, signal, headers);
    }
  }
}

function sendStepError(step: SimErrorStep, target: ReplyTarget): void {
  const { res } = target;
  const headers = { ...processingHeaders(target), ...step.headers };
  if (step.body !== undefined) {
    if (res.destroyed || res.headersSent) return;
    // A raw body is usually a proxy's error page, hence HTML unless the step says otherwise.
    const type = step.body.trimStart().startsWith('<') ? 'text/html; charset=utf-8' : 'text/plain';
    res.writeHead(step.status, { 'content-type': type, ...headers });
    res.end(step.body);
    return;
  }
  const fallback = defaultErrorFor(step.status);
  const error = {
    message: step.message ?? fallback.message,
    type: step.errorType ?? fallback.type,
    code: step.code === undefined ? fallback.code : step.code,
  };
  sendError(res, step.status, error, headers);
}

function resetSocket(socket: Socket | null): void {
  if (!socket) return;
  // resetAndDestroy throws on a socket that is not a connected TCP socket; destroy still ends it.
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
