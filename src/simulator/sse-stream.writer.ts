import type { ServerResponse } from 'node:http';
import {
  callOf,
  chunkBody,
  logprobOf,
  streamPieces,
  usageChunk,
  type SimFinishReason,
  type SimReply,
} from './completion.factory';
import { sleep, type HeaderMap } from './http.io';
import type { SimStreamStep } from './simulator.types';

/** How a stream is paced and how it ends; a plain stream has every field at its default. */
export type StreamPlan = Omit<SimStreamStep, 'type' | 'repeat' | 'latencyMs' | 'content' | 'model'>;

/** Default keep-alive interval of a `keepAliveOnly` stream that set none. */
const KEEP_ALIVE_ONLY_EVERY_MS = 1000;

/**
 * Writes an OpenAI-style SSE answer: a role chunk, content chunks, a `finish_reason: 'stop'`
 * chunk, the usage chunk when asked for, then `data: [DONE]`. A reply that calls a function
 * streams it as OpenAI does: the role chunk opens the call (`delta.tool_calls[0]` with its id and
 * name), the next chunks carry pieces of its arguments, and it ends with `'tool_calls'`. With
 * `n` > 1, each step sends one chunk per choice (`choices[0].index`). The plan can slow, stall or
 * cut it to reproduce what real providers and proxies do to long streams; its counts are steps.
 *
 * @example
 * await writeSseStream(res, reply, { delayMs: 20, stallAfter: 2 }, false, signal);
 */
export async function writeSseStream(
  res: ServerResponse,
  reply: SimReply,
  plan: StreamPlan,
  includeUsage: boolean,
  signal: AbortSignal,
  headers: HeaderMap = {},
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
    ...plan.headers,
  });
  res.flushHeaders();
  const keepAliveEveryMs =
    plan.keepAliveEveryMs ?? (plan.keepAliveOnly ? KEEP_ALIVE_ONLY_EVERY_MS : undefined);
  let lastWrite = Promise.resolve();
  const write = (text: string): void => {
    if (res.destroyed || signal.aborted) return;
    lastWrite = new Promise((resolve) => res.write(text, () => resolve()));
  };
  const send = (body: object): void => write(`data: ${JSON.stringify(body)}\n\n`);
  const wait = (ms: number): Promise<boolean> => pause(ms, keepAliveEveryMs, write, signal);
  // One chunk per choice: what `delta(choice)` gives; a finish reason only at the last step.
  const sendEach = (
    delta: (choice: number) => Record<string, unknown>,
    finish: SimFinishReason | null = null,
    logprobs: object | null = null,
  ): void => {
    for (let choice = 0; choice < reply.choices; choice++) {
      send(chunkBody(reply, delta(choice), finish, includeUsage, choice, logprobs));
    }
  };
  const { toolCall } = reply;

  if (plan.keepAliveOnly) {
    await wait(Infinity);
    return;
  }
  if (!(await wait(plan.firstChunkDelayMs ?? 0))) return;
  sendEach((choice) =>
    toolCall
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, ...callOf(toolCall, choice, '') }],
          refusal: null,
        }
      : { role: 'assistant', content: '' },
  );
  const gap = plan.delayMs ?? 0;
  for (let i = 0; i < (plan.emptyDeltas ?? 0); i++) {
    if (!(await wait(gap))) return;
    sendEach(() => ({ content: '' }));
  }
  const pieces = plan.chunks ?? streamPieces(reply);
  for (let sent = 0; sent <= pieces.length; sent++) {
    // Checked before each piece and before the end, so a limit past the content still applies.
    if (plan.cutAfter !== undefined && sent >= plan.cutAfter) {
      // Destroying at once would discard chunks still buffered; the client must receive them.
      await lastWrite;
      res.destroy();
      return;
    }
    if (plan.stallAfter !== undefined && sent >= plan.stallAfter) {
      await wait(Infinity);
      return;
    }
    const piece = pieces[sent];
    if (piece === undefined) break;
    if (!(await wait(gap))) return;
    const { topLogprobs } = reply;
    sendEach(
      () =>
        toolCall
          ? { tool_calls: [{ index: 0, function: { arguments: piece } }] }
          : { content: piece },
      null,
      topLogprobs === undefined
        ? null
        : { content: [logprobOf(piece, sent, topLogprobs)], refusal: null },
    );
  }
  if (!(await wait(gap))) return;
  sendEach(() => ({}), reply.finishReason);
  if (includeUsage) send(usageChunk(reply));
  write('data: [DONE]\n\n');
  res.end();
}

// Waits while sending SSE comments, as proxies and some providers do to keep idle streams open.
async function pause(
  ms: number,
  keepAliveEveryMs: number | undefined,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  if (ms <= 0 || !keepAliveEveryMs) return sleep(ms, signal);
  const timer = setInterval(() => write(': keep-alive\n\n'), keepAliveEveryMs);
  try {
    return await sleep(ms, signal);
  } finally {
    clearInterval(timer);
  }
}
