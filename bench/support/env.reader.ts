/**
 * A whole number from the environment within `[min, max]`, or `fallback` when unset. Bounded, so
 * a typo in a variable cannot start an hour-long run; a bad value fails before anything starts.
 */
export function readInt(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is not valid; set a whole number from ${min} to ${max}.`);
  }
  return value;
}
