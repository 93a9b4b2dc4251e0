/** Secrets shorter than this are not masked: masking `abc` everywhere would garble messages. */
const MIN_SECRET_LENGTH = 4;

/**
 * Any run of this many characters of a given secret is masked: a provider that echoes part of a
 * key (the last 12 characters, a prefix) still identifies it. Shorter runs are too likely to
 * appear by chance in ids and hex strings.
 */
const FRAGMENT_LENGTH = 8;

/** The key's last 5 to 7 characters are masked too when they stand alone (`****Ab3dE`). */
const MIN_TAIL_LENGTH = 5;

/**
 * OpenAI-style keys (`sk-...`, `sk-proj-...`, Anthropic's `sk-ant-...`) and the masked forms
 * providers echo back (OpenAI's 401 says "Incorrect API key provided: sk-proj-****abcd"): even a
 * masked key leaks its prefix and last characters, which identify the key in a log search.
 * The look-behind keeps words such as `task-scheduler-queue` intact. Runs of dots may stand
 * between its parts (`sk-proj-...abcd`), not at its end: a sentence keeps its full stop.
 */
const OPENAI_STYLE_KEY =
  /(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_*.-]{8})[A-Za-z0-9_*-]*(?:\.+[A-Za-z0-9_*-]+)*/g;

/** `Authorization: Bearer <token>` echoed in a message; the token stops at quotes and commas. */
const BEARER_TOKEN = /\b(Bearer)\s+[^\s"',;]+/gi;

/** `api-key: ...` (Azure's header), `api_key=...` (query strings), `x-api-key: ...`. */
const API_KEY_ASSIGNMENT = /\b((?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi;

/**
 * Masks secrets in text taken from a provider before it goes into an error message, a log line
 * or a span: every occurrence of each given secret becomes `***`, any OpenAI-style key (also a
 * masked one) becomes `sk-***`, a bearer token becomes `Bearer ***` and an `api-key` value `***`.
 *
 * Given secrets are replaced longest first, so a secret that contains a shorter one is masked
 * whole. Any run of 8 or more characters of a secret is masked too, and so are its last 5 to 7
 * characters when they stand as a word of their own: providers mask keys to the last 4
 * characters, and anything longer identifies the key. Secrets shorter than 4 characters are
 * ignored.
 *
 * @param secrets the upstream's API key and anything else that must never be shown
 * @example
 * redactSecrets('Incorrect API key provided: sk-proj-****abcd.'); // 'Incorrect API key provided: sk-***.'
 * redactSecrets('key 0123abcd rejected', ['0123abcd']); // 'key *** rejected'
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  return secretRedactor(secrets)(text);
}

/** What {@link secretRedactor} works out once per set of secrets. */
interface CompiledSecret {
  secret: string;
  /** Every run of {@link FRAGMENT_LENGTH} characters of it; empty when it is not longer. */
  grams: Set<string>;
  /** The {@link windowHash} of each of its grams, as bits: a text's windows are checked here first. */
  hashes: Uint32Array;
  /** Its last {@link MIN_TAIL_LENGTH} characters: every masked tail ends with them. */
  tail: string;
  /** Its last 7, 6 and 5 characters standing alone (those it is long enough for). */
  tails: RegExp[];
}

/** Cheap pre-check: the bearer and api-key patterns each need one of these words (any case). */
const BEARER_OR_API_KEY = /bearer|api[-_]?key/i;

/**
 * {@link redactSecrets} for the same secrets many times (an upstream's key, on every response
 * header): the masks are worked out once, and text that cannot hold a secret is passed through
 * after a few substring checks instead of a dozen regular expressions.
 *
 * @example
 * const redact = secretRedactor([upstream.apiKey]);
 * redact(response.headers['x-request-id']);
 */
export function secretRedactor(
  secrets: readonly (string | undefined)[] = [],
): (text: string) => string {
  const given: CompiledSecret[] = secrets
    .filter(
      (secret): secret is string => secret !== undefined && secret.length >= MIN_SECRET_LENGTH,
    )
    .sort((a, b) => b.length - a.length)
    .map((secret) => {
      const grams = fragmentsOf(secret);
      return {
        secret,
        grams,
        hashes: hashBits(grams),
        tail: secret.slice(-MIN_TAIL_LENGTH),
        tails: tailPatterns(secret),
      };
    });
  // Indexed loops: this runs on every response header, and an iterator is an allocation.
  return (text) => {
    let result = text;
    for (let i = 0; i < given.length; i++) {
      const { secret } = given[i]!;
      if (result.includes(secret)) result = result.split(secret).join('***');
    }
    // Before the fragments: masking `sk-proj-` as a fragment of the key first left the rest of
    // OpenAI's own masked echo (`sk-proj-****9XYZ` became `*******9XYZ`), its last characters.
    if (result.includes('sk-')) result = result.replace(OPENAI_STYLE_KEY, 'sk-***');
    for (let i = 0; i < given.length; i++) {
      const compiled = given[i]!;
      result = maskFragments(result, compiled);
      if (result.includes(compiled.tail)) {
        for (const tail of compiled.tails) result = result.replace(tail, '***');
      }
    }
    // And after: a key cut by the masks above may still read as one.
    if (result.includes('sk-')) result = result.replace(OPENAI_STYLE_KEY, 'sk-***');
    if (!BEARER_OR_API_KEY.test(result)) return result;
    return result.replace(BEARER_TOKEN, '$1 ***').replace(API_KEY_ASSIGNMENT, '$1***');
  };
}

function fragmentsOf(secret: string): Set<string> {
  const grams = new Set<string>();
  if (secret.length <= FRAGMENT_LENGTH) return grams;
  for (let i = 0; i + FRAGMENT_LENGTH <= secret.length; i++) {
    grams.add(secret.slice(i, i + FRAGMENT_LENGTH));
  }
  return grams;
}

/**
 * Masks every run of {@link FRAGMENT_LENGTH} or more characters that also occurs in the secret.
 * Each window of the text is first looked up by its rolling hash, which takes no allocation: only
 * a window whose hash is a gram's is cut out and compared, so a text that holds no part of the
 * secret (nearly every one) is scanned once and returned as it is.
 */
function maskFragments(text: string, { secret, grams, hashes }: CompiledSecret): string {
  const last = text.length - FRAGMENT_LENGTH;
  if (grams.size === 0 || last < 0) return text;
  let out: string[] | undefined;
  let copied = 0;
  let i = 0;
  let hash = windowHash(text, 0);
  for (;;) {
    if (hasBit(hashes, hash) && grams.has(text.slice(i, i + FRAGMENT_LENGTH))) {
      let end = i + FRAGMENT_LENGTH;
      while (end < text.length && secret.includes(text.slice(i, end + 1))) end++;
      (out ??= []).push(text.slice(copied, i), '***');
      copied = end;
      i = end;
      if (i > last) break;
      hash = windowHash(text, i);
      continue;
    }
    if (i === last) break;
    hash = rollHash(hash, text.charCodeAt(i), text.charCodeAt(i + FRAGMENT_LENGTH));
    i++;
  }
  if (out === undefined) return text;
  out.push(text.slice(copied));
  return out.join('');
}

/** Bits kept of a window's hash: a secret's few hundred grams set a few hundred of 65,536. */
const HASH_BITS = 16;

function hashBits(grams: Set<string>): Uint32Array {
  const bits = new Uint32Array((1 << HASH_BITS) / 32);
  for (const gram of grams) {
    const at = windowHash(gram, 0) >>> (32 - HASH_BITS);
    bits[at >>> 5]! |= 1 << (at & 31);
  }
  return bits;
}

function hasBit(bits: Uint32Array, hash: number): boolean {
  const at = hash >>> (32 - HASH_BITS);
  return (bits[at >>> 5]! & (1 << (at & 31))) !== 0;
}

const HASH_BASE = 31;
/** HASH_BASE to the power FRAGMENT_LENGTH - 1, as a 32-bit integer: the weight of a window's first character. */
const HASH_FIRST_WEIGHT = Array.from({ length: FRAGMENT_LENGTH - 1 }).reduce<number>(
  (power) => Math.imul(power, HASH_BASE),
  1,
);

/** A polynomial hash (32-bit) of the {@link FRAGMENT_LENGTH} characters of `text` from `start`. */
function windowHash(text: string, start: number): number {
  let hash = 0;
  for (let k = start; k < start + FRAGMENT_LENGTH; k++) {
    hash = (Math.imul(hash, HASH_BASE) + text.charCodeAt(k)) | 0;
  }
  return hash;
}

/** The hash of the next window: `leaving` drops out in front, `entering` comes in at the end. */
function rollHash(hash: number, leaving: number, entering: number): number {
  return (Math.imul(hash - Math.imul(leaving, HASH_FIRST_WEIGHT), HASH_BASE) + entering) | 0;
}

/** The secret's last 7, 6 and 5 characters where they stand alone, as in `****Ab3dE`. */
function tailPatterns(secret: string): RegExp[] {
  const patterns: RegExp[] = [];
  for (let length = FRAGMENT_LENGTH - 1; length >= MIN_TAIL_LENGTH; length--) {
    if (secret.length <= length + 4) continue;
    const tail = secret.slice(-length).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    patterns.push(new RegExp(`(?<![A-Za-z0-9])${tail}(?![A-Za-z0-9])`, 'g'));
  }
  return patterns;
}

/** `scheme://user:password@` in a URL anywhere in a text. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s/@]*@/gi;

/**
 * Masks the password of every URL in a text (`redis://user:***@host`), for log lines that quote
 * a configured URL.
 *
 * @example
 * maskUrlPasswords('redis://app:s3cret@cache:6379'); // 'redis://app:***@cache:6379'
 */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@');
}

/** One redactor per list of secrets (an upstream's `secrets`, the same array for its life). */
const redactors = new WeakMap<readonly string[], (text: string) => string>();

/**
 * {@link secretRedactor} for an upstream's `secrets`, made once per list and kept while the list
 * lives: for text read on every call (a completion's id and model).
 *
 * @example
 * redactorOf(upstream.secrets)(completion.model);
 */
export function redactorOf(secrets: readonly string[]): (text: string) => string {
  let redact = redactors.get(secrets);
  if (redact === undefined) {
    redact = secretRedactor(secrets);
    redactors.set(secrets, redact);
  }
  return redact;
}
