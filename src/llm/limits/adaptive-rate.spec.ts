import { AdaptiveRate } from './adaptive-rate';

describe('AdaptiveRate', () => {
  it('takes 5 % off per 429, once per period, down to a tenth', () => {
    const rate = new AdaptiveRate(6000); // period 100 ms
    expect(rate.throttled(0)).toBe(true);
    expect(rate.fraction).toBe(0.95);
    expect(rate.throttled(50)).toBe(false);
    expect(rate.fraction).toBe(0.95);
    // 429s every period: about half after 14 periods, a tenth at most.
    for (let t = 100; t <= 1300; t += 100) rate.throttled(t);
    expect(rate.fraction).toBeCloseTo(0.95 ** 14, 3);
    for (let t = 1400; t <= 10_000; t += 100) rate.throttled(t);
    expect(rate.fraction).toBe(0.1);
    expect(rate.apply(20)).toBe(2);
  });

  it('adds 5 % per period of success without 429, back to exactly the limit', () => {
    const rate = new AdaptiveRate(6000);
    rate.throttled(0);
    rate.throttled(100);
    expect(rate.succeeded(150)).toBe(false);
    let t = 200;
    while (rate.succeeded(t)) t += 100;
    expect(rate.fraction).toBe(1);
    expect(t).toBe(400);
    expect(rate.apply(20)).toBe(20);
  });

  it('keeps the rate above 90 % of the limit with a 429 every 4 s among 30 calls a second', () => {
    const rate = new AdaptiveRate(60_000);
    let lowest = 1;
    for (let t = 0; t < 120_000; t += 33) {
      if (t % 4000 < 33) rate.throttled(t);
      else rate.succeeded(t);
      lowest = Math.min(lowest, rate.fraction);
    }
    expect(lowest).toBeGreaterThan(0.9);
    expect(rate.apply(6000)).toBeGreaterThan(5400);
  });

  it('starts the quiet period over on any 429', () => {
    const rate = new AdaptiveRate(6000);
    rate.throttled(0);
    rate.throttled(90); // ignored for the rate, but not quiet
    expect(rate.succeeded(150)).toBe(false);
    expect(rate.succeeded(190)).toBe(true);
  });

  it('never changes when disabled', () => {
    const rate = new AdaptiveRate(6000, false);
    expect(rate.throttled(0)).toBe(false);
    expect(rate.fraction).toBe(1);
  });
});
