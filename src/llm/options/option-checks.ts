import { MAX_TIMER_MS } from '../resilience/timer-lists';
import { suggestKey } from './option-suggestions';

/** The rule of one number option: its lower bound, and whether it counts whole things. */
export interface NumberRule {
  /** Smallest accepted value. */
  min: number;
  /** The value must be above `min`, not equal to it (timeouts: 0 ms would never let a call go). */
  aboveMin?: boolean;
  /** The value counts things (retries, slots, calls), so it must be an integer. */
  whole?: boolean;
  /** Largest accepted value; an option named `...Ms` is at most {@link MAX_TIMER_MS} without it. */
  max?: number;
}

/** How a section's keys are checked. */
export interface KeyRules {
  /** Old names of this section's options, mapped to their new names (see CHANGELOG.md). */
  renamed?: Readonly<Record<string, string>>;
  /** Keys that belong elsewhere, mapped to where, e.g. `maxRetries` → `retry.maxRetries`. */
  elsewhere?: Readonly<Record<string, string>>;
}

/**
 * The one set of option checks of LlmModule and LlmJobsModule. Values come as applications have
 * them, often straight from `ConfigService` or `process.env`, so:
 * - `undefined` is "not set": the caller takes the default;
 * - a numeric string (`'3'`, `' 2500 '`) is that number;
 * - `true`/`false` may also be the strings `'true'`/`'false'` (any case); nothing else
 *   (`'1'`, `'yes'`) is taken for a boolean, so a typo never flips a switch;
 * - an empty string is an error that asks whether the variable feeding it is unset.
 *
 * Each check records a problem starting with the field's path and returns `undefined` instead of
 * throwing, so one boot lists every problem at once.
 *
 * @example
 * const checks = new OptionChecks();
 * const retries = checks.number(given.maxRetries, 'retry.maxRetries', { min: 0, whole: true });
 * if (checks.problems.length > 0) throw new LlmOptionsError(checks.problems);
 */
export class OptionChecks {
  readonly problems: string[] = [];

  /** An empty string where a value was expected: most often an unset variable (`NAME=`). */
  private empty(path: string): undefined {
    this.report(path, 'is empty — is the environment variable that feeds it unset?');
    return undefined;
  }

  /** Records a problem; `path` leads it, so every message names its field. */
  report(path: string, problem: string): void {
    const line = `${path} ${problem}`;
    // Once: a problem in `defaults` is found again for every upstream that takes it.
    if (!this.problems.includes(line)) this.problems.push(line);
  }

  /**
   * A plain object, its keys checked against `known` (unknown keys are reported with a "did you
   * mean"; `'any'` for a map keyed by names such as models), or `undefined` when not set or not an
   * object (then reported).
   */
  section(
    value: unknown,
    path: string,
    known: readonly string[] | 'any',
    example: string,
    rules: KeyRules = {},
  ): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.report(path, `must be an object such as ${example}, got ${describe(value)}`);
      return undefined;
    }
    const section = value as Record<string, unknown>;
    if (known === 'any') return section;
    for (const key of Object.keys(section)) {
      if (!known.includes(key)) this.unknownKey(key, path, known, rules);
    }
    return section;
  }

  /** A number (or numeric string) that follows `rule`; `undefined` when not set or wrong. */
  number(value: unknown, path: string, rule: NumberRule): number | undefined {
    if (value === undefined) return undefined;
    if (isEmptyText(value)) return this.empty(path);
    const number = toNumber(value);
    const max = rule.max ?? (path.endsWith('Ms') ? MAX_TIMER_MS : Infinity);
    const inRange =
      number !== undefined && (rule.aboveMin ? number > rule.min : number >= rule.min);
    if (inRange && number > max) {
      const why = max === MAX_TIMER_MS ? " (Node's longest timer, about 24.8 days)" : '';
      this.report(path, `must be at most ${max}${why}, got ${describe(value)}`);
      return undefined;
    }
    if (inRange && (!rule.whole || Number.isInteger(number))) return number;
    const what = rule.whole ? 'a whole number' : 'a number';
    const bound = rule.aboveMin ? `greater than ${rule.min}` : `≥ ${rule.min}`;
    const notANumber = typeof value === 'string' && number === undefined ? ', not a number' : '';
    this.report(path, `must be ${what} ${bound}, got ${describe(value)}${notANumber}`);
    return undefined;
  }

  /** `true`/`false`, or the strings `'true'`/`'false'`; `undefined` when not set or wrong. */
  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined || typeof value === 'boolean') return value;
    if (isEmptyText(value)) return this.empty(path);
    const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    this.report(
      path,
      `must be true or false (or the string 'true' or 'false'), got ${describe(value)}`,
    );
    return undefined;
  }

  /**
   * A non-empty string. `secret` values (keys, URLs that may embed a password) are never quoted,
   * not even when wrong. `required` reports a value that is not set.
   */
  text(
    value: unknown,
    path: string,
    options: { example?: string; required?: boolean; secret?: boolean } = {},
  ): string | undefined {
    const example = options.example ? ` (e.g. ${options.example})` : '';
    if (value === undefined) {
      if (options.required) this.report(path, `is required${example}, and is not set`);
      return undefined;
    }
    if (typeof value !== 'string') {
      const got = options.secret ? shapeOf(value) : describe(value);
      this.report(path, `must be a string${example}, got ${got}`);
      return undefined;
    }
    if (value.trim() === '') {
      this.empty(path);
      return undefined;
    }
    return value;
  }

  /** A function (an extractor, a callback); `undefined` when not set or wrong. */
  func<T>(value: unknown, path: string, signature: string): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'function') return value as T;
    this.report(path, `must be a function ${signature}, got ${describe(value)}`);
    return undefined;
  }

  private unknownKey(key: string, path: string, known: readonly string[], rules: KeyRules): void {
    const at = path === '' ? key : `${path}.${key}`;
    const parent = path === '' ? '' : `${path}.`;
    const renamed = rules.renamed?.[key];
    if (renamed !== undefined) {
      this.report(at, `was renamed to ${renamed}: use ${parent}${renamed} (see CHANGELOG.md)`);
      return;
    }
    // A key that belongs outside this object (isGlobal, inside forRoot's options): say where.
    const elsewhere = rules.elsewhere?.[key];
    if (elsewhere?.startsWith(`${key}, `)) {
      this.report(at, `is not an option here: it goes ${elsewhere.slice(key.length + 2)}`);
      return;
    }
    const suggestion = suggestKey(key, known, rules.elsewhere ?? {});
    if (suggestion !== undefined) {
      this.report(at, `is not an option; did you mean ${parent}${suggestion}?`);
    } else {
      this.report(at, `is not an option (known: ${known.join(', ')})`);
    }
  }
}

/** A number, or the number a numeric string spells; `undefined` for anything else (NaN too). */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/**
 * A value as an error may show it: numbers, booleans and short plain words as they are; longer or
 * key-shaped strings only by their length, as they may be a secret pasted into the wrong field.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const harmless = value.length <= 16 && /^[\w.+-]*$/.test(value) && !/^sk-/i.test(value);
    return harmless ? `'${value}'` : `a ${value.length}-character string (not shown)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return shapeOf(value);
}

/** The kind of a value, never its content. */
function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a ${value.length}-character string`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function isEmptyText(value: unknown): boolean {
  return typeof value === 'string' && value.trim() === '';
}
