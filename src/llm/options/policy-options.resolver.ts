import type {
  LlmBreakerOptions,
  LlmBulkheadOptions,
  LlmPolicyOptions,
  LlmRetryOptions,
  LlmTimeoutOptions,
} from '../llm-module.options';
import { LLM_DEFAULTS } from './llm.defaults';
import { type NumberRule, type OptionChecks } from './option-checks';

/** The sections an upstream sets for itself or takes from `defaults`. */
export const POLICY_SECTIONS = ['retry', 'breaker', 'bulkhead', 'timeouts'] as const;
export type PolicySection = (typeof POLICY_SECTIONS)[number];

const MS: NumberRule = { min: 0 };
const TIMEOUT: NumberRule = { min: 0, aboveMin: true };

/** What each field accepts; the defaults are in {@link LLM_DEFAULTS}. */
const RULES: { [S in PolicySection]: Record<keyof (typeof LLM_DEFAULTS)[S], NumberRule> } = {
  retry: {
    maxRetries: { min: 0, whole: true },
    baseDelayMs: MS,
    maxDelayMs: MS,
    maxServerHintMs: MS,
  },
  breaker: {
    consecutiveFailures: { min: 1, whole: true },
    maxBreakMs: MS,
    minBreakMs: MS,
    maxProbeWaitMs: MS,
  },
  bulkhead: { maxConcurrent: { min: 1, whole: true }, maxQueue: { min: 0, whole: true } },
  timeouts: {
    connectMs: TIMEOUT,
    attemptMs: TIMEOUT,
    deadlineMs: TIMEOUT,
    firstChunkMs: TIMEOUT,
    idleMs: TIMEOUT,
  },
};

/** Options renamed so their names say what they bound: old name → new name (CHANGELOG.md). */
export const RENAMED_OPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  retry: { maxHintMs: 'maxServerHintMs' },
  breaker: {
    maxWaitMs: 'maxProbeWaitMs',
    halfOpenAfterMs: 'maxBreakMs',
    minHalfOpenAfterMs: 'minBreakMs',
  },
  timeouts: { totalMs: 'deadlineMs' },
  limits: { maxWaiting: 'maxQueue' },
};

/** Every policy field by its bare name, where it belongs: `maxRetries` → `retry.maxRetries`. */
export const POLICY_FIELDS: Readonly<Record<string, string>> = Object.fromEntries(
  POLICY_SECTIONS.flatMap((section) => [
    ...Object.keys(RULES[section]).map((field): [string, string] => [field, `${section}.${field}`]),
    ...Object.entries(RENAMED_OPTIONS[section] ?? {}).map(([old, field]): [string, string] => [
      old,
      `${section}.${field}`,
    ]),
  ]),
);

/** The policy values one layer (`defaults` or an upstream) sets; unset fields are absent. */
export type PolicyLayer = {
  [S in PolicySection]: Partial<Record<keyof (typeof RULES)[S], number>>;
};

/** Checks the policy sections of one layer, e.g. `defaults` or `upstreams[0]`. */
export function readPolicyLayer(
  layer: Record<string, unknown>,
  at: string,
  checks: OptionChecks,
): PolicyLayer {
  const read = <S extends PolicySection>(section: S): PolicyLayer[S] => {
    const rules = RULES[section] as Record<string, NumberRule>;
    const path = `${at}.${section}`;
    const given = checks.section(layer[section], path, Object.keys(rules), '{ ... }', {
      renamed: RENAMED_OPTIONS[section],
    });
    const values: PolicyLayer[S] = {};
    for (const [field, rule] of Object.entries(rules)) {
      const value = checks.number(given?.[field], `${path}.${field}`, rule);
      if (value !== undefined) (values as Record<string, number>)[field] = value;
    }
    return values;
  };
  return {
    retry: read('retry'),
    breaker: read('breaker'),
    bulkhead: read('bulkhead'),
    timeouts: read('timeouts'),
  };
}

/** The policy settings in force for one upstream. */
export interface MergedPolicy {
  retry: LlmRetryOptions;
  breaker: LlmBreakerOptions;
  bulkhead: LlmBulkheadOptions;
  timeouts: LlmTimeoutOptions;
  /** Defaults that gave way to a value the user set, for the startup log. */
  adjusted: string[];
}

/** Settings that must not exceed another one: `[section, low, high]`. */
const ORDERED = [
  ['retry', 'baseDelayMs', 'maxDelayMs'],
  ['timeouts', 'attemptMs', 'deadlineMs'],
  ['breaker', 'minBreakMs', 'maxBreakMs'],
] as const;

/**
 * Defaults, then `defaults`, then the upstream's own values. No default stops a boot: where a
 * default conflicts with a value the user set, the default gives way to it (the attempt timeout
 * becomes the deadline, a base delay above the cap becomes the cap), and the change is noted in
 * `adjusted` for the startup log. Two values the user set themselves still fail, naming both.
 */
export function mergePolicy(
  shared: PolicyLayer,
  own: PolicyLayer,
  at: string,
  checks: OptionChecks,
): MergedPolicy & Required<Pick<LlmPolicyOptions, PolicySection>> {
  const merge = <S extends PolicySection>(section: S) => ({
    ...LLM_DEFAULTS[section],
    ...shared[section],
    ...own[section],
  });
  const merged = {
    retry: merge('retry'),
    breaker: merge('breaker'),
    bulkhead: merge('bulkhead'),
    timeouts: merge('timeouts'),
    adjusted: [] as string[],
  };
  const userSet = (section: PolicySection, field: string): boolean =>
    field in shared[section] || field in own[section];
  // Where the user set a field: the upstream's own options, else `defaults`.
  const setAt = (section: PolicySection, field: string): string =>
    field in own[section] ? `${at}.${section}.${field}` : `defaults.${section}.${field}`;
  for (const [section, lowKey, highKey] of ORDERED) {
    const values = merged[section] as Record<string, number>;
    const low = values[lowKey]!;
    const high = values[highKey]!;
    if (low <= high) continue;
    const lowSet = userSet(section, lowKey);
    if (lowSet === userSet(section, highKey)) {
      const lowAt = setAt(section, lowKey);
      const highAt = setAt(section, highKey);
      // The other field by its section alone when both sit in the same options object.
      const sameObject = lowAt.slice(0, -lowKey.length) === highAt.slice(0, -highKey.length);
      checks.report(
        lowAt,
        `(${low}) must not exceed ${sameObject ? `${section}.${highKey}` : highAt} (${high})`,
      );
    } else if (lowSet) {
      values[highKey] = low;
      merged.adjusted.push(
        `${section}.${highKey} ${low} (default ${high}; not below ${section}.${lowKey})`,
      );
    } else {
      values[lowKey] = high;
      merged.adjusted.push(
        `${section}.${lowKey} ${high} (default ${low}; not above ${section}.${highKey})`,
      );
    }
  }
  return merged;
}
