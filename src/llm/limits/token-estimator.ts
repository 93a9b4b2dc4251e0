import type { ChatCompletionRequest } from '../call/chat.types';

/** Counts tokens of a text; `undefined` when no tokenizer could be loaded. */
type TokenCounter = (text: string) => number;

// OpenAI's current chat models (gpt-4o, 4.1, 5, o-series) share the o200k_base encoding; older
// ones use cl100k_base, whose counts differ by a few percent: close enough for an estimate.
const OPENAI_MODEL = /^(?:ft:)?(?:gpt-|chatgpt-|o\d)/i;
// OpenAI's chat format costs about 3 tokens per message and 3 to prime the reply.
const PER_MESSAGE = 3;
const PER_REPLY = 3;
// A low-detail image costs 85 tokens; parts other than text are rarely cheaper.
const PER_NON_TEXT_PART = 85;
// Tokenizing costs about 0.1 ms per 1000 characters: past this, characters / 4 is good enough
// and keeps the limiter off the latency budget of long prompts.
const MAX_TOKENIZED_CHARS = 16_000;

let counter: TokenCounter | null | undefined;

/** Loads gpt-tokenizer's o200k_base once (about 150 ms); `null` when it cannot be loaded. */
function loadCounter(): TokenCounter | null {
  if (counter !== undefined) return counter;
  try {
    // Loaded on first need, not at import: it holds a 200k-token table most apps never use.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const encoding = require('gpt-tokenizer/encoding/o200k_base') as { countTokens: TokenCounter };
    counter = (text) => encoding.countTokens(text);
  } catch {
    counter = null;
  }
  return counter;
}

/**
 * Estimates the tokens an attempt will cost before it is sent: the prompt (with OpenAI's
 * tokenizer for OpenAI model names, characters / 4 otherwise) plus the completion it may produce
 * (`max_completion_tokens`, `max_tokens`, or `completionTokens` when the request sets neither).
 *
 * @example
 * estimateTokens({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 100 }, 'gpt-4o', 256); // 108
 */
export function estimateTokens(
  request: ChatCompletionRequest,
  model: string,
  completionTokens: number,
): number {
  return promptTokens(request, model) + maxCompletion(request, completionTokens);
}

/** Loads the tokenizer ahead of the first call (the module does it at startup). */
export function warmUpTokenizer(): boolean {
  return loadCounter() !== null;
}

function promptTokens(request: ChatCompletionRequest, model: string): number {
  let text = '';
  let extra = PER_REPLY;
  for (const message of request.messages ?? []) {
    extra += PER_MESSAGE;
    text += message.role ?? '';
    const { content } = message;
    if (typeof content === 'string') text += content;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const p = part as { type?: unknown; text?: unknown };
        if (p.type === 'text' && typeof p.text === 'string') text += p.text;
        else extra += PER_NON_TEXT_PART;
      }
    }
    // Names, tool calls and tool call ids count too; their JSON is a fair stand-in.
    const extras = Object.entries(message).filter(([key]) => key !== 'role' && key !== 'content');
    if (extras.length > 0) text += JSON.stringify(Object.fromEntries(extras));
  }
  if (request.tools !== undefined) text += JSON.stringify(request.tools);
  return count(text, model) + extra;
}

function count(text: string, model: string): number {
  const tokenizer =
    OPENAI_MODEL.test(model) && text.length <= MAX_TOKENIZED_CHARS ? loadCounter() : null;
  return tokenizer ? tokenizer(text) : Math.ceil(text.length / 4);
}

function maxCompletion(request: ChatCompletionRequest, fallback: number): number {
  const given = request.max_completion_tokens ?? request.max_tokens;
  const each = typeof given === 'number' && Number.isFinite(given) && given >= 0 ? given : fallback;
  // `n` choices each may produce up to the maximum.
  const n = typeof request.n === 'number' && request.n > 1 ? Math.floor(request.n) : 1;
  return Math.ceil(each) * n;
}
