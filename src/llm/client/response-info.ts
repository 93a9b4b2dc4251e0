import { CallResponseInfo } from './call-record';
import { ChatCompletion, ChatCompletionChunk } from './chat.types';

/** What telemetry keeps of a completion: ids, finish reasons and token usage, never the text. */
export function responseInfo(completion: ChatCompletion): CallResponseInfo {
  return {
    id: completion.id,
    model: completion.model,
    finishReasons: (completion.choices ?? []).flatMap((c) =>
      c.finish_reason ? [c.finish_reason] : [],
    ),
    inputTokens: completion.usage?.prompt_tokens,
    outputTokens: completion.usage?.completion_tokens,
  };
}

/** Folds one stream chunk into the response info gathered so far. */
export function foldChunk(info: CallResponseInfo, chunk: ChatCompletionChunk): CallResponseInfo {
  const reasons = (chunk.choices ?? []).flatMap((c) => (c.finish_reason ? [c.finish_reason] : []));
  return {
    id: info.id ?? chunk.id,
    model: info.model ?? chunk.model,
    finishReasons: reasons.length > 0 ? [...info.finishReasons, ...reasons] : info.finishReasons,
    inputTokens: chunk.usage?.prompt_tokens ?? info.inputTokens,
    outputTokens: chunk.usage?.completion_tokens ?? info.outputTokens,
  };
}
