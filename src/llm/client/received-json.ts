/**
 * The JSON text an upstream's completion or stream chunk was parsed from, kept beside the parsed
 * object, so that a relay sending the object on unchanged (the gateway) writes the text it got
 * instead of serialising the object again: one `JSON.stringify` less per answer and per chunk,
 * on the way to the client. The text is what the upstream sent; a client reading it gets the
 * same JSON value as from a re-serialisation, in the upstream's own spelling (as a client calling
 * the upstream directly would).
 *
 * Texts are kept in a `WeakMap` (the object's shape and what `Object.keys`, `toEqual` or a spread
 * see do not change), and only up to {@link MAX_KEPT_CHARS} characters, so a caller that keeps
 * completions keeps at most that much text more per object (the parsed object itself is larger).
 */
const texts = new WeakMap<object, string>();

/** Longest text kept beside its object; a longer one is serialised again when relayed. */
export const MAX_KEPT_CHARS = 64 * 1024;

/**
 * Keeps `text` as the JSON of `parsed`, which `JSON.parse(text)` returned and nothing changed.
 *
 * @example
 * const completion = JSON.parse(text);
 * keepReceivedJson(completion, text);
 */
export function keepReceivedJson(parsed: object, text: string): void {
  if (text.length <= MAX_KEPT_CHARS) texts.set(parsed, text);
}

/**
 * The one completion held by {@link holdReceivedJson} (with its text) until {@link keepHeldJson}
 * or the next hold moves it into {@link texts}: a `WeakMap` entry costs a few µs on the way to a
 * plain answer, and a field this one.
 */
let heldObject: object | undefined;
let heldText = '';

/**
 * {@link keepReceivedJson} for a completion about to be relayed: held aside (see
 * {@link heldObject}) and moved into the `WeakMap` by {@link keepHeldJson} (once the answer is
 * written) or by the next hold, whichever comes first. {@link receivedJson} finds it either way.
 */
export function holdReceivedJson(parsed: object, text: string): void {
  if (text.length > MAX_KEPT_CHARS) return;
  keepHeldJson();
  heldObject = parsed;
  heldText = text;
}

/** Moves the held completion's text (if any) into the `WeakMap`, where it is kept as usual. */
export function keepHeldJson(): void {
  if (heldObject === undefined) return;
  texts.set(heldObject, heldText);
  heldObject = undefined;
  heldText = '';
}

/**
 * Forgets the text kept for `parsed`, which is about to change: it is serialised again when
 * relayed.
 */
export function forgetReceivedJson(parsed: object): void {
  if (parsed === heldObject) {
    heldObject = undefined;
    heldText = '';
  }
  texts.delete(parsed);
}

/**
 * The JSON text of `value`: the text it was parsed from when it is a completion or chunk as
 * received (and, with `oneLine`, that text holds no line break, as an event-stream `data:` line
 * must not), `JSON.stringify(value)` otherwise. Meant for objects nobody changed since they were
 * parsed: a relay's own. A degraded answer or any object built here is serialised.
 *
 * @example
 * res.end(receivedJson(completion)); // the upstream's text, or JSON.stringify(completion)
 */
export function receivedJson(value: unknown, oneLine = false): string {
  if (typeof value === 'object' && value !== null) {
    const text = value === heldObject ? heldText : texts.get(value);
    if (text !== undefined && !(oneLine && text.includes('\n'))) return text;
  }
  return JSON.stringify(value);
}
