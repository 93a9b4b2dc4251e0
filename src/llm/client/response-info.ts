import { type CallResponseInfo } from '../call/call-record.types';
import { type ChatCompletion, type ChatCompletionChunk } from '../call/chat.types';

/** Longest id or model name kept from a response: the upstream controls them. */
const MAX_TEXT = 256;

/** Most finish reasons kept: a stream may send one per chunk, and chunks are not counted. */
const MAX_FINISH_REASONS = 16;

/**
 * Largest token count taken from an upstream's `usage`: a hundred times the largest context
 * window offered. Past it, or negative, or not a whole number, the count is unknown: a count of
 * 1e12 would otherwise wreck every token sum, rate and budget correction at once.
 */
export const MAX_TOKEN_COUNT = 100_000_000;

/** What telemetry keeps of a completion: ids, finish reasons and token usage, never the text. */
export function responseInfo(completion: ChatCompletion): CallResponseInfo {
  return {
    id: bounded(completion.id),
    model: bounded(completion.model),
    finishReasons: finishReasonsOf(completion.choices).slice(0, MAX_FINISH_REASONS),
    inputTokens: tokenCount(completion.usage?.prompt_tokens),
    outputTokens: tokenCount(completion.usage?.completion_tokens),
  };
}

/** Folds one stream chunk into the response info gathered so far. */
export function foldChunk(info: CallResponseInfo, chunk: ChatCompletionChunk): CallResponseInfo {
  const reasons = finishReasonsOf(chunk.choices);
  const room = MAX_FINISH_REASONS - info.finishReasons.length;
  return {
    id: info.id ?? bounded(chunk.id),
    model: info.model ?? bounded(chunk.model),
    finishReasons:
      reasons.length > 0 && room > 0
        ? [...info.finishReasons, ...reasons.slice(0, room)]
        : info.finishReasons,
    inputTokens: tokenCount(chunk.usage?.prompt_tokens) ?? info.inputTokens,
    outputTokens: tokenCount(chunk.usage?.completion_tokens) ?? info.outputTokens,
  };
}

function finishReasonsOf(
  choices: ReadonlyArray<{ finish_reason?: unknown }> | undefined,
): string[] {
  const reasons: string[] = [];
  if (!choices) return reasons;
  // Not an array (a stream chunk's, from the upstream): read as before.
  if (!Array.isArray(choices)) return choices.flatMap(finishReasonOf);
  const list: ReadonlyArray<{ finish_reason?: unknown }> = choices;
  // A loop: flatMap costs an array per choice.
  for (let i = 0; i < list.length; i++) {
    const reason = list[i]!.finish_reason;
    if (typeof reason === 'string' && reason) reasons.push(reason.slice(0, 64));
  }
  return reasons;
}

function finishReasonOf(choice: { finish_reason?: unknown }): string[] {
  const reason = choice.finish_reason;
  return typeof reason === 'string' && reason ? [reason.slice(0, 64)] : [];
}

/** A token count as the upstream sent it, if it is a whole number from 0 to {@link MAX_TOKEN_COUNT}. */
function tokenCount(value: unknown): number | undefined {
  return Number.isSafeInteger(value) &&
    (value as number) >= 0 &&
    (value as number) <= MAX_TOKEN_COUNT
    ? (value as number)
    : undefined;
}

function bounded(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_TEXT) : undefined;
}
