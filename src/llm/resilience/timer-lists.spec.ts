import { CallDeadline } from './call-deadline';
import {
  keepTimerList,
  keptTimerLists,
  MAX_KEPT,
  MIN_KEPT_MS,
  releaseTimerLists,
} from './timer-lists';

describe('kept timer lists', () => {
  afterEach(() => releaseTimerLists());

  it('keeps each duration of a second or more once, whole milliseconds, at most MAX_KEPT', () => {
    keepTimerList(120_000);
    keepTimerList(120_000.7); // Node files it under 120000 too
    keepTimerList(MIN_KEPT_MS - 1);
    keepTimerList(0);
    keepTimerList(Number.NaN);
    keepTimerList(2 ** 31); // past Node's longest timer: it would fire after 1 ms
    expect(keptTimerLists()).toEqual([120_000]);
    for (let i = 0; i < MAX_KEPT + 3; i++) keepTimerList(MIN_KEPT_MS + i);
    expect(keptTimerLists()).toHaveLength(MAX_KEPT);
    expect(keptTimerLists()).not.toContain(MIN_KEPT_MS + MAX_KEPT);
  });

  it('keeps no process alive: what it holds is unref’d', () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    keepTimerList(60_000);
    expect(keptTimerLists()).toEqual([60_000]);
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBe(before);
  });

  it('a call’s deadline keeps its list; its timer still fires after its whole duration', async () => {
    const deadline = new CallDeadline(MIN_KEPT_MS);
    expect(keptTimerLists()).toEqual([MIN_KEPT_MS]);
    deadline.dispose();
    // The list's interval fires first (it was set first): a later timer of the same duration
    // is not brought forward by it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const late = new CallDeadline(MIN_KEPT_MS);
    await new Promise((resolve) => late.signal.addEventListener('abort', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(MIN_KEPT_MS - 1);
    expect(late.signal.reason).toBe('deadline');
    late.dispose();
  });
});
