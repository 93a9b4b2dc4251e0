import type { ResolvedUpstream } from './llm-module.options';

/** Settings that must not exceed another one: `[section, low, high]`. */
const ORDERED = [
  ['retry', 'baseDelayMs', 'maxDelayMs'],
  ['timeouts', 'attemptMs', 'totalMs'],
  ['breaker', 'minHalfOpenAfterMs', 'halfOpenAfterMs'],
] as const;

/**
 * No default stops a boot: where a default conflicts with a value the user set, the default gives
 * way to it (the attempt timeout becomes the total deadline, a base delay above the cap becomes
 * the cap), and the change is noted in `adjusted` for the startup log. Two values the user set
 * themselves still fail, naming both fields.
 */
export function reconcileDefaults(
  u: ResolvedUpstream,
  userSet: ReadonlySet<string>,
  at: string,
  problems: string[],
): void {
  for (const [section, lowKey, highKey] of ORDERED) {
    const values = u[section] as unknown as Record<string, number>;
    const low = values[lowKey]!;
    const high = values[highKey]!;
    if (low <= high) continue;
    const lowSet = userSet.has(`${section}.${lowKey}`);
    const highSet = userSet.has(`${section}.${highKey}`);
    if (lowSet === highSet) {
      problems.push(
        `${at}.${section}.${lowKey} (${low}) must not exceed ${section}.${highKey} (${high})`,
      );
    } else if (lowSet) {
      values[highKey] = low;
      u.adjusted.push(
        `${section}.${highKey} ${low} (default ${high}; not below ${section}.${lowKey})`,
      );
    } else {
      values[lowKey] = high;
      u.adjusted.push(
        `${section}.${lowKey} ${high} (default ${low}; not above ${section}.${highKey})`,
      );
    }
  }
}
