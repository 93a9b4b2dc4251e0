/**
 * Keeps Node's timer list of a duration alive between calls. Node keeps one list per duration
 * (whole milliseconds): the first timer of a duration makes the list and puts it into the timers'
 * priority queue, and clearing the last one takes it out again. Calls one after the other each
 * set and clear their deadline and attempt timers, so each call paid for two lists. An unref'd
 * interval of the same duration stays in the list: the calls' timers are then only appended and
 * unlinked. Nothing else changes: each timer fires when it did, and the interval (waking the
 * loop once per duration) keeps no process alive.
 *
 * Only durations of a second or more (the timeouts and deadlines calls carry; a shorter one would
 * wake the loop often for little), and at most {@link MAX_KEPT} of them: durations a caller varies
 * per call simply go without.
 */
const kept = new Map<number, NodeJS.Timeout>();

/** Durations kept at most (each is an interval: one wake-up per duration). */
export const MAX_KEPT = 8;

/** Shortest duration kept, in ms. */
export const MIN_KEPT_MS = 1_000;

/**
 * Node's longest timer (about 24.8 days): a longer `setTimeout` fires after 1 ms instead, in a
 * list of its own. Durations the user sets are bounded by it (option-checks.ts, call-lifecycle.ts).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function keep(): void {
  // The interval's only job is to be in the list.
}

/**
 * Keeps the timer list of `ms` (as `setTimeout(fn, ms)` files it) alive from now on.
 *
 * @example
 * keepTimerList(deadlineMs);
 * const timer = setTimeout(onDeadline, deadlineMs); // appended to a live list
 */
export function keepTimerList(ms: number): void {
  if (!(ms >= MIN_KEPT_MS && ms <= MAX_TIMER_MS)) return;
  const list = Math.trunc(ms);
  if (kept.size >= MAX_KEPT || kept.has(list)) return;
  kept.set(list, setInterval(keep, list).unref());
}

/** The durations whose lists are kept now, in ms. */
export function keptTimerLists(): number[] {
  return [...kept.keys()];
}

/** Lets the kept lists go (their intervals cleared); for tests. */
export function releaseTimerLists(): void {
  for (const interval of kept.values()) clearInterval(interval);
  kept.clear();
}
