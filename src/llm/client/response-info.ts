import { type CallResponseInfo } from '../call/call-record.types';
import { type ChatCompletion, type ChatCompletionChunk } from '../call/chat.types';
import { redactorOf } from '../resilience/secret-redaction';

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

/**
 * What telemetry keeps of a completion: ids, finish reasons and token usage, never the text. The
 * id, model and finish reasons are the upstream's text, and go into metric labels, spans and
 * events: any of the upstream's `secrets` in them (a key echoed as the model) is masked.
 */
export function responseInfo(
  completion: ChatCompletion,
  secrets: readonly string[] = [],
): CallResponseInfo {
  const redact = redactorOf(secrets);
  return {
    id: bounded(completion.id, redact),
    model: bounded(completion.model, redact),
    finishReasons: finishReasonsOf(completion.choices, redact).slice(0, MAX_FINISH_REASONS),
    inputTokens: tokenCount(completion.usage?.prompt_tokens),
    outputTokens: tokenCount(completion.usage?.completion_tokens),
  };
}

/** Folds one stream chunk into the response info gathered so far (masked as {@link responseInfo}). */
export function foldChunk(
  info: CallResponseInfo,
  chunk: ChatCompletionChunk,
  secrets: readonly string[] = [],
): CallResponseInfo {
  const redact = redactorOf(secrets);
  const reasons = finishReasonsOf(chunk.choices, redact);
  const room = MAX_FINISH_REASONS - info.finishReasons.length;
  return {
    id: info.id ?? bounded(chunk.id, redact),
    model: info.model ?? bounded(chunk.model, redact),
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
  redact: (text: string) => string,
): string[] {
  const reasons: string[] = [];
  if (!choices) return reasons;
  // Not an array (a stream chunk's, from the upstream): read as before.
  if (!Array.isArray(choices)) {
    return choices.flatMap((choice: { finish_reason?: unknown }) => {
      const reason = choice.finish_reason;
      return typeof reason === 'string' && reason ? [redact(reason.slice(0, 64))] : [];
    });
  }
  const list: ReadonlyArray<{ finish_reason?: unknown }> = choices;
  // A loop: flatMap costs an array per choice.
  for (let i = 0; i < list.length; i++) {
    const reason = list[i]!.finish_reason;
    if (typeof reason === 'string' && reason) reasons.push(redact(reason.slice(0, 64)));
  }
  return reasons;
}

/** A token count as the upstream sent it, if it is a whole number from 0 to {@link MAX_TOKEN_COUNT}. */
function tokenCount(value: unknown): number | undefined {
  return Number.isSafeInteger(value) &&
    (value as number) >= 0 &&
    (value as number) <= MAX_TOKEN_COUNT
    ? (value as number)
    : undefined;
}

function bounded(value: unknown, redact: (text: string) => string): string | undefined {
  return typeof value === 'string' ? redact(value.slice(0, MAX_TEXT)) : undefined;
}
