import type { ServerResponse } from 'node:http';
import type { ChatRequest } from './chat-request.parser';
import { chunkBody, completionBody, type SimReply } from './completion.factory';
import { sendJson, type HeaderMap } from './http.io';
import { writeSseStream } from './sse-stream.writer';

/** What every answer to one chat request needs. */
export interface ReplyTarget {
  res: ServerResponse;
  request: ChatRequest;
  /** Aborts when the client leaves or the simulator closes. */
  signal: AbortSignal;
  /** `Date.now()` when the request arrived, for `openai-processing-ms`. */
  startedAt: number;
}

/** OpenAI reports its own processing time; clients log it to tell network time from model time. */
export function processingHeaders(target: ReplyTarget): Record<string, string> {
  return { 'openai-processing-ms': String(Date.now() - target.startedAt) };
}

/**
 * Answers with the reply as the request asked: a `chat.completion` JSON, or SSE chunks for
 * `stream: true`.
 *
 * @example
 * await sendReply(target, buildReply(target.request, models), openAiRateHeaders(snapshot));
 */
export async function sendReply(
  target: ReplyTarget,
  reply: SimReply,
  headers: HeaderMap = {},
): Promise<void> {
  const { res, request, signal } = target;
  const allHeaders = { ...processingHeaders(target), ...headers };
  if (request.stream) {
    await writeSseStream(res, reply, {}, request.includeUsage, signal, allHeaders);
  } else {
    sendJson(res, 200, completionBody(reply), allHeaders);
  }
}

/**
 * A 200 whose body breaks off mid-JSON, as a proxy that cut the response would leave it. For a
 * stream it is one well-formed role chunk, then an event whose JSON breaks off, then the end.
 */
export function sendMalformed(target: ReplyTarget, reply: SimReply): void {
  const { res, request } = target;
  if (res.destroyed || res.headersSent) return;
  const json = JSON.stringify(
    request.stream
      ? chunkBody(reply, { content: reply.content }, null, false)
      : completionBody(reply),
  );
  const truncated = json.slice(0, Math.floor(json.length / 2));
  if (request.stream) {
    const role = JSON.stringify(chunkBody(reply, { role: 'assistant', content: '' }, null, false));
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      ...processingHeaders(target),
    });
    res.end(`data: ${role}\n\ndata: ${truncated}\n\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', ...processingHeaders(target) });
  res.end(truncated);
}
