import { pacingOf } from './budget-pacing';
import { PacedWindow } from './paced-window';

describe('PacedWindow', () => {
  const limits = { rpm: 1200 };
  // 1200 per minute per 1 s: 20 per 1015 ms, one every 50.75 ms, 100 ms ahead at most.
  const pacing = pacingOf(limits, 60_000, 1000, true)!;
  const entry = (id: number) => ({ id: String(id), requests: 1, tokens: 0, local: false });

  /** Takes at `now` until refused; returns how many went. */
  function drain(window: PacedWindow, now: number, from: number): number {
    let n = 0;
    while (window.take(now, entry(from + n), limits, now + 60_500, pacing).admitted) n++;
    return n;
  }

  it('admits the burst allowance at once, then one per emission interval', () => {
    const window = new PacedWindow();
    expect(pacing.requests).toEqual({ cap: 20, emissionMs: 50.75 });
    // At t=0: 1 + floor(100 / 50.75) = 2 at once (the third 1.5 ms later).
    expect(drain(window, 0, 0)).toBe(2);
    const refused = window.take(0, entry(99), limits, 60_500, pacing);
    expect(refused).toMatchObject({ admitted: false, waitMs: 2, dimension: 'requests' });
  });

  it('never admits more than the interval share within one interval, however it is asked', () => {
    const window = new PacedWindow();
    const admitted: number[] = [];
    for (let now = 0; now < 5000; now += 7) {
      let n = 0;
      while (window.take(now, entry(now * 100 + n), limits, now + 60_500, pacing).admitted) {
        admitted.push(now);
        n++;
      }
    }
    for (const start of admitted) {
      const within = admitted.filter((t) => t >= start && t < start + 1000).length;
      expect(within).toBeLessThanOrEqual(20);
    }
    // And the pace holds: about 20 per 1015 ms over 5 s.
    expect(admitted.length).toBeGreaterThanOrEqual(95);
    expect(admitted.length).toBeLessThanOrEqual(102);
  });

  it('gives back the schedule a released reservation held', () => {
    const window = new PacedWindow();
    expect(drain(window, 0, 0)).toBe(2);
    window.adjust('0', { requests: 0, tokens: 0 });
    window.adjust('1', { requests: 0, tokens: 0 });
    expect(drain(window, 0, 10)).toBe(2);
  });
});
