/**
 * Shortest run of the prompt's text found and masked in a provider's message: long enough not
 * to match by chance ("the model"), short enough to catch a quoted sentence.
 */
const RUN = 16;
/** Windows of {@link RUN} characters start every this many characters of the message. */
const STRIDE = 4;
/** Characters read of each text of the prompt, and texts read: the scan stays bounded. */
const MAX_PIECE = 64 * 1024;
const MAX_PIECES = 64;

/** What a masked run of the prompt's text reads as. */
export const PROMPT_ECHO_MASK = '[prompt text]';

/**
 * Masks the caller's prompt text where a provider's message quotes it ("Your prompt "…" was
 * flagged"), so that what the module records (logs, spans, events) holds no prompt text unless
 * content capture is on. A run of 16 or more characters that also occurs in one of the
 * messages' texts (compared with whitespace collapsed, as the message is) becomes
 * `[prompt text]`; a quote shorter than that stays.
 *
 * @param messages the request's `messages`, as the caller sent them
 * @example
 * maskPromptEcho('Your prompt "tell me the secret plan" was flagged.', [
 *   { role: 'user', content: 'tell me the secret plan' },
 * ]); // 'Your prompt "[prompt text]" was flagged.'
 */
export function maskPromptEcho(text: string, messages: unknown): string {
  if (text.length < RUN || !Array.isArray(messages)) return text;
  const pieces = promptPieces(messages);
  if (pieces.length === 0) return text;
  let masked: Uint8Array | undefined;
  const last = text.length - RUN;
  for (let i = 0; i <= last; i = i === last ? last + 1 : Math.min(i + STRIDE, last)) {
    const window = text.slice(i, i + RUN);
    if (pieces.some((piece) => piece.includes(window)))
      (masked ??= new Uint8Array(text.length)).fill(1, i, i + RUN);
  }
  if (masked === undefined) return text;
  // The windows start every STRIDE characters: each run found is widened to the characters on
  // either side that still continue the prompt's text (at most STRIDE - 1 each way).
  const found = (start: number): boolean => {
    const window = text.slice(start, start + RUN);
    return pieces.some((piece) => piece.includes(window));
  };
  for (let i = 0; i < text.length; i++) {
    if (masked[i] === 0 || (i > 0 && masked[i - 1] === 1)) continue;
    for (let start = i - 1; start >= 0 && masked[start] === 0 && found(start); start--)
      masked[start] = 1;
  }
  for (let i = text.length - 1; i >= 0; i--) {
    if (masked[i] === 0 || (i < text.length - 1 && masked[i + 1] === 1)) continue;
    for (let end = i + 1; end < text.length && masked[end] === 0 && found(end - RUN + 1); end++) {
      masked[end] = 1;
    }
  }
  let result = '';
  for (let i = 0; i < text.length; i++) {
    if (masked[i] === 0) result += text[i];
    else if (i === 0 || masked[i - 1] === 0) result += PROMPT_ECHO_MASK;
  }
  return result;
}

/** The messages' texts (a string content, or its text parts), whitespace collapsed, bounded. */
function promptPieces(messages: readonly unknown[]): string[] {
  const pieces: string[] = [];
  const add = (text: unknown): void => {
    if (typeof text === 'string' && text.length >= RUN && pieces.length < MAX_PIECES) {
      pieces.push(text.slice(0, MAX_PIECE).replace(/\s+/g, ' '));
    }
  };
  for (const message of messages) {
    if (pieces.length >= MAX_PIECES) break;
    const content = (message as { content?: unknown } | null)?.content;
    if (typeof content === 'string') add(content);
    else if (Array.isArray(content)) {
      for (const part of content as unknown[]) add((part as { text?: unknown } | null)?.text);
    }
  }
  return pieces;
}
