/** Thrown at boot when an environment variable is malformed; lists every problem at once. */
export class GatewayConfigError extends Error {
  readonly code = 'GATEWAY_INVALID_CONFIG';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'GatewayConfigError';
  }
}

/**
 * Reads typed values from the environment and collects what is wrong instead of throwing at the
 * first problem, so one failed boot shows every variable to fix. An empty value counts as unset:
 * docker-compose and `.env` files often write `NAME=` for "no value".
 *
 * @example
 * const env = new EnvReader(process.env);
 * const retries = env.wholeNumber('LLM_MAX_RETRIES', { min: 0 });
 * env.throwIfInvalid();
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The trimmed value, or undefined when unset or empty. */
  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  /** A whole number within `[min, max]`. */
  wholeNumber(name: string, range: { min: number; max?: number }): number | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    const inRange = value >= range.min && (range.max === undefined || value <= range.max);
    if (Number.isSafeInteger(value) && inRange) return value;
    const bounds = range.max === undefined ? `≥ ${range.min}` : `from ${range.min} to ${range.max}`;
    this.problems.push(`${name} must be a whole number ${bounds}, got ${shown(text)}`);
    return undefined;
  }

  /** `true`/`false` (also `1`/`0`, `yes`/`no`, any case). */
  boolean(name: string): boolean | undefined {
    const text = this.text(name)?.toLowerCase();
    if (text === undefined) return undefined;
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    this.problems.push(`${name} must be true or false, got ${shown(this.text(name) ?? '')}`);
    return undefined;
  }

  /** An absolute http(s) URL. */
  url(name: string, example: string): string | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if (url.username !== '' || url.password !== '') {
        // Refused: it would be sent as Basic auth instead of the key, and printed with the URL.
        this.problems.push(
          `${name} must not contain a user or password (user:password@host); put the key in its own variable`,
        );
        return undefined;
      }
      if (['http:', 'https:'].includes(url.protocol)) return text;
    } catch {
      // Reported below, like a URL of another protocol.
    }
    // Never echoed: a URL may hold a password, and a key pasted here would be printed.
    this.problems.push(
      `${name} must be an absolute http(s) URL such as ${example}; got a ${text.length}-character value that is not one`,
    );
    return undefined;
  }

  /** A comma-separated list; blanks between commas are dropped. */
  list(name: string): string[] {
    return (this.text(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  /** Records a problem found by a check across variables. */
  report(problem: string): void {
    this.problems.push(problem);
  }

  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new GatewayConfigError(this.problems);
  }
}

/**
 * A value as a boot error may quote it: short plain words and numbers are echoed, anything that
 * may be a secret pasted into the wrong variable (long, or key-shaped) is only described.
 */
function shown(text: string): string {
  const harmless = text.length <= 16 && /^[\w.+-]*$/.test(text) && !/^sk-/i.test(text);
  return harmless
    ? `'${text}'`
    : `a ${text.length}-character value (not shown: it may be a secret)`;
}
