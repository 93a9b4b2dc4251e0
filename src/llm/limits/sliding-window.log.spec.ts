import { SlidingWindowLog } from './sliding-window.log';

const entry = (id: string, requests = 1, tokens = 0) => ({ id, requests, tokens, local: false });

describe('SlidingWindowLog', () => {
  it('admits up to the limit in any window, not per fixed minute: no double burst at an edge', () => {
    const log = new SlidingWindowLog();
    const limits = { rpm: 3 };
    // Three late in one "minute"...
    for (const [i, at] of [900, 950, 990].entries()) {
      expect(log.take(at, entry(`a${i}`), limits, at + 1000).admitted).toBe(true);
    }
    // ...leave no room just after the minute turns, as a fixed window would.
    const result = log.take(1010, entry('b'), limits, 2010);
    expect(result).toEqual({ admitted: false, waitMs: 890, dimension: 'requests', drainMs: 980 });
    expect(log.take(1900, entry('c'), limits, 2900).admitted).toBe(true);
  });

  it('waits for enough of the oldest tokens to leave the window', () => {
    const log = new SlidingWindowLog();
    const limits = { tpm: 1000 };
    log.take(0, entry('a', 1, 600), limits, 1000);
    log.take(100, entry('b', 1, 300), limits, 1100);
    // 900 used: 500 more fit only once `a` (600) has left, at 1000.
    expect(log.peek(200, { requests: 1, tokens: 500 }, limits)).toMatchObject({
      admitted: false,
      waitMs: 800,
      dimension: 'tokens',
    });
    // A need beyond what the window can ever free says so.
    expect(log.peek(200, { requests: 1, tokens: 2000 }, limits)).toMatchObject({
      admitted: false,
      waitMs: undefined,
    });
  });

  it('reports the dimension that frees last when both are short', () => {
    const log = new SlidingWindowLog();
    const limits = { rpm: 2, tpm: 100 };
    log.take(0, entry('a', 1, 10), limits, 1000);
    log.take(10, entry('b', 1, 90), limits, 1010);
    expect(log.peek(20, { requests: 1, tokens: 50 }, limits)).toMatchObject({
      waitMs: 990,
      dimension: 'tokens',
    });
  });

  it('corrects an entry with the real usage, and forgets entries that left', () => {
    const log = new SlidingWindowLog();
    log.take(0, entry('a', 1, 500), { tpm: 1000 }, 1000);
    expect(log.adjust('a', { requests: 1, tokens: 20 })).toBe(true);
    expect(log.usage(10)).toEqual({ requests: 1, tokens: 20 });
    expect(log.usage(1000)).toEqual({ requests: 0, tokens: 0 });
    expect(log.adjust('a', { requests: 1, tokens: 5 })).toBe(false);
  });

  it('keeps entries added out of order sorted by expiry', () => {
    const log = new SlidingWindowLog();
    log.add({ ...entry('late'), expiresAt: 500 });
    log.add({ ...entry('early'), expiresAt: 100 });
    expect(log.usage(100).requests).toBe(1);
    expect(log.usage(500).requests).toBe(0);
  });
});
