/** Secrets shorter than this are not masked: masking `abc` everywhere would garble messages. */
const MIN_SECRET_LENGTH = 4;

/**
 * OpenAI-style keys (`sk-...`, `sk-proj-...`, Anthropic's `sk-ant-...`) and the masked forms
 * providers echo back (OpenAI's 401 says "Incorrect API key provided: sk-proj-****abcd"): even a
 * masked key leaks its prefix and last characters, which identify the key in a log search.
 * The look-behind keeps words such as `task-scheduler-queue` intact.
 */
const OPENAI_STYLE_KEY = /(?<![A-Za-z0-9])sk-[A-Za-z0-9_*-]{8,}/g;

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
 * whole. Secrets shorter than 4 characters are ignored.
 *
 * @param secrets the upstream's API key and anything else that must never be shown
 * @example
 * redactSecrets('Incorrect API key provided: sk-proj-****abcd.'); // 'Incorrect API key provided: sk-***.'
 * redactSecrets('key 0123abcd rejected', ['0123abcd']); // 'key *** rejected'
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  const given = secrets
    .filter(
      (secret): secret is string => secret !== undefined && secret.length >= MIN_SECRET_LENGTH,
    )
    .sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of given) result = result.split(secret).join('***');
  return result
    .replace(OPENAI_STYLE_KEY, 'sk-***')
    .replace(BEARER_TOKEN, '$1 ***')
    .replace(API_KEY_ASSIGNMENT, '$1***');
}
