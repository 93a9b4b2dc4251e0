/** How long to poll, how often, and what to name in the error when time runs out. */
export interface EventuallyOptions {
  /** Generous on purpose: it only bounds how long a broken behaviour takes to fail. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error when `check` never threw. */
  what?: string;
}

/**
 * The one poller of the tests: calls `check` until it neither throws nor returns `false`, and
 * returns what it returned. Use it for effects that land after the call that caused them returned
 * (a span ends when the response is flushed, an event is shipped in the background). At the
 * timeout it rethrows the last error of `check`, so a failing `expect` reads as itself.
 *
 * @example
 * await eventually(() => expect(es.documents()).toHaveLength(1));
 * await eventually(() => sim.requests.length === 2, { what: 'two upstream requests' });
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 10, what = 'the condition' }: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let failure = new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
    } catch (error) {
      if (error instanceof Error) failure = error;
    }
    if (performance.now() > deadline) throw failure;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
