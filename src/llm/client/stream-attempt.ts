import { LlmError } from '../resilience/llm.errors';
import { classifyStreamErrorEvent } from '../resilience/error-classifier';
import { redactSecrets } from '../resilience/secret-redaction';
import { AttemptTimeout } from './attempt-timeout.layer';
import { MAX_ERROR_BODY_BYTES, readBody } from '../transport/read-body';
import { readStreamItems, type StreamItem, type StreamItemReader } from '../transport/sse-chunks';
import { type ChatCompletionChunk } from '../call/chat.types';
import { whereOf } from './llm-call';
import { keepReceivedJson } from './received-json';
import { type ChatAttemptInput, sendChatRequest } from './send-chat-request';
import { MAX_ANSWER_DEPTH } from '../transport/json-depth.scan';

/**
 * Most characters of chunks (their JSON as received) held before the first content chunk: role
 * chunks and empty deltas wait there for the caller, so an upstream that sends them without end
 * would grow them until the first-chunk timeout. A provider sends a few hundred bytes of them.
 */
export const MAX_HEAD_CHARS = 1024 * 1024;

/** A stream whose first content chunk has arrived: from here on it is not retried. */
export interface OpenedStream {
  /** Chunks up to and including the first content chunk (role-only and empty deltas first). */
  head: ChatCompletionChunk[];
  /** The rest of the stream's items, still being read. */
  items: StreamItemReader;
  /** Aborts the request; armed with the idle timeout. */
  timeout: AttemptTimeout;
  /** The call's error for a failure of the rest of the stream (after content). */
  toError: (error: unknown) => LlmError;
  /** True when the stream already ended (`[DONE]`) before any content. */
  ended: boolean;
  /** The idle timeout to re-arm after every chunk. */
  idleMs: number;
  /** The upstream's key and credential headers, masked in what later stream errors say. */
  secrets: readonly string[];
  /**
   * The attempt asked for the usage though the caller did not (see `ChatAttemptInput`): the
   * usage-only last chunk is recorded, not yielded.
   */
  usageAdded: boolean;
}

/**
 * One streaming attempt, up to the first content chunk. Until then a failure is retried like
 * any other: nothing reached the caller. Keep-alive comments and empty deltas do not count as
 * content, so a provider that only keeps the connection warm still hits the first-chunk timeout.
 */
export async function openStreamAttempt(input: ChatAttemptInput): Promise<OpenedStream> {
  const { upstream, model, context } = input;
  const { timeouts } = upstream;
  const timeout = new AttemptTimeout(context.deadline.signal);
  const startedAt = Date.now();
  timeout.arm('attempt_timeout', Math.min(timeouts.attemptMs, timeouts.firstChunkMs));
  const where = { upstream: upstream.name, model };
  try {
    const response = await sendChatRequest(input, timeout.signal, 'stream');
    const body = response.body;
    if (typeof body === 'string') throw new Error('a stream request was answered as text');
    const requestId = response.headers['x-request-id'];
    const type = (response.headers['content-type'] ?? '').toLowerCase();
    if (!type.includes('text/event-stream')) {
      // A JSON error with a 200 (some proxies answer a stream request so): the provider's words.
      if (type.includes('json')) {
        const text = await readBody(body, MAX_ERROR_BODY_BYTES);
        if (/^\s*\{\s*"error"\s*:/.test(text)) {
          throw classifyStreamErrorEvent(
            text,
            upstream.name,
            model,
            upstream.secrets,
            requestId,
            'answered a stream request with an error',
          );
        }
      }
      body.destroy();
      throw new LlmError(
        'invalid_response',
        `Upstream '${upstream.name}' answered a stream request with '${response.headers['content-type']}' instead of text/event-stream.`,
        { ...where, status: response.status, requestId },
      );
    }
    const firstChunkLeft = Math.max(0, timeouts.firstChunkMs - (Date.now() - startedAt));
    // Armed for the first chunk from the start (the attempt timeout being no shorter): the
    // timer stays, only its reason changes. Otherwise the first-chunk timeout is longer than
    // the attempt's: armed anew.
    if (timeouts.firstChunkMs <= timeouts.attemptMs) {
      timeout.relabel('first_chunk_timeout', firstChunkLeft);
    } else {
      timeout.arm('first_chunk_timeout', firstChunkLeft);
    }
    const items = readStreamItems(body);
    // Up to the first content, the read goes on past what is not content (see readOn).
    items.readOn = isHeadItem;
    const head: ChatCompletionChunk[] = [];
    let headChars = 0;
    const opened = (ended: boolean): OpenedStream => {
      // From here on every item is the consumer's, read only as it asks.
      items.readOn = undefined;
      return {
        head,
        items,
        timeout,
        ended,
        idleMs: timeouts.idleMs,
        secrets: upstream.secrets,
        usageAdded: input.usageAdded,
        toError: (error) => timeout.toError(error, context.deadline, whereOf(context.record)),
      };
    };
    for (;;) {
      // An item at hand without a promise's turn: a role chunk and the first content often come
      // in one read, and the content's turn would follow everything queued after that read.
      let item = items.poll();
      if (item === undefined) {
        const next = await items.next();
        if (next.done) {
          throw new LlmError(
            'network',
            `Upstream '${upstream.name}' closed the stream before any content.`,
            {
              ...where,
              status: response.status,
              requestId,
            },
          );
        }
        item = next.value;
      }
      if (item.type === 'keepalive') continue;
      // Ended before any content: the first-chunk timer gives way to the idle one, as after
      // content (a stream read later is not "no content in time"; one never read still ends).
      if (item.type === 'done') {
        timeout.arm('idle_timeout', timeouts.idleMs);
        return opened(true);
      }
      const chunk = toChunk(item, where, requestId, upstream.secrets);
      headChars += item.raw.length;
      if (headChars > MAX_HEAD_CHARS) {
        throw new LlmError(
          'invalid_response',
          `Upstream '${upstream.name}' sent more than ${MAX_HEAD_CHARS} characters of chunks without any content.`,
          { ...where, status: response.status, requestId },
        );
      }
      head.push(chunk);
      if (hasContent(chunk)) break;
    }
    timeout.arm('idle_timeout', timeouts.idleMs);
    return opened(false);
  } catch (error) {
    const failure = timeout.toError(error, context.deadline, {
      ...where,
      attempts: context.attempt.number,
    });
    timeout.abort('consumer_done'); // frees the socket of a failed attempt
    timeout.dispose();
    throw failure;
  }
}

/**
 * A chunk counts as content when it carries a finish reason, usage, or anything in a delta besides
 * its `role`: text, a tool call, a refusal, reasoning (`reasoning_content`, `reasoning`), audio
 * (`audio.data`, `audio.transcript`) or a field a provider adds. A role-only first delta, or a
 * delta whose fields are all null, empty strings, empty arrays or objects holding no more than an
 * `id` (audio's opening `{ id, transcript: '' }`), is not yet an answer.
 */
export function hasContent(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage) return true;
  const choices = chunk.choices ?? [];
  // No array or closure per chunk and choice: asked of every chunk before the first content is
  // written (by the attempt and by the gateway's writer).
  for (let i = 0; i < choices.length; i++) {
    const choice = choices[i]!;
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return true;
    const delta = choice.delta as Record<string, unknown> | undefined;
    if (delta === undefined || delta === null) continue;
    for (const field in delta) {
      if (field !== 'role' && isFilled(delta[field], true)) return true;
    }
  }
  return false;
}

/**
 * Whether a delta field holds something: not null, `''` or `[]`; an object when a field of it
 * besides `id` does (one level down only: a delta's fields are shallow).
 */
function isFilled(value: unknown, lookInside: boolean): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value !== 'object') return true;
  if (!lookInside) return true;
  const fields = value as Record<string, unknown>;
  for (const key in fields) if (key !== 'id' && isFilled(fields[key], false)) return true;
  return false;
}

/**
 * An item the opening reads past: a keep-alive, or a chunk that is not yet content (a role-only
 * or empty delta). Anything else (content, `[DONE]`, an error event, garbage) stops the read.
 */
function isHeadItem(item: StreamItem): boolean {
  if (item.type === 'keepalive') return true;
  if (item.type !== 'data') return false;
  const json = item.json as { error?: unknown } | undefined;
  return !json?.error && isChunkShaped(json) && !hasContent(json);
}

/** Whether a data item's JSON has a chunk's shape: an object with a `choices` array. */
function isChunkShaped(json: unknown): json is ChatCompletionChunk {
  return (
    typeof json === 'object' &&
    json !== null &&
    Array.isArray((json as { choices?: unknown }).choices)
  );
}

/** Parses a data item into a chunk; an `{error}` payload or garbage is an upstream failure. */
export function toChunk(
  item: Extract<StreamItem, { type: 'data' }>,
  where: { upstream: string; model: string },
  requestId: string | undefined,
  /** The upstream's key and credential headers: masked in the error message, with any part. */
  secrets: readonly string[],
): ChatCompletionChunk {
  const json = item.json as
    { error?: { message?: unknown; code?: unknown }; choices?: unknown } | undefined;
  if (json?.error) {
    // Classified as the error response it stands for: a streamed context_length_exceeded is the
    // caller's mistake, not a server error to retry and count against the breaker.
    throw classifyStreamErrorEvent(item.raw, where.upstream, where.model, secrets, requestId);
  }
  if (!isChunkShaped(json)) {
    const what = item.tooDeep
      ? `nests arrays and objects more than ${MAX_ANSWER_DEPTH} levels deep; not parsed`
      : redactSecrets(item.raw.slice(0, 200), secrets).slice(0, 80);
    throw new LlmError(
      'invalid_response',
      `Upstream '${where.upstream}' sent a stream event that is not a chat completion chunk ` +
        `(${what}).`,
      { ...where, status: 200, requestId },
    );
  }
  keepReceivedJson(json, item.raw);
  return json;
}
