import { AdaptiveRate } from './adaptive-rate';

describe('AdaptiveRate', () => {
  it('halves on a 429, once per burst, down to a tenth', () => {
    const rate = new AdaptiveRate(1200); // period 100 ms
    expect(rate.throttled(0)).toBe(true);
    expect(rate.fraction).toBe(0.5);
    expect(rate.throttled(50)).toBe(false);
    expect(rate.fraction).toBe(0.5);
    for (let t = 100; t <= 1000; t += 100) rate.throttled(t);
    expect(rate.fraction).toBe(0.1);
    expect(rate.apply(20)).toBe(2);
  });

  it('adds 5 % per period of success without 429, back to exactly the limit', () => {
    const rate = new AdaptiveRate(1200);
    rate.throttled(0);
    expect(rate.succeeded(50)).toBe(false);
    let t = 100;
    while (rate.succeeded(t)) t += 100;
    expect(rate.fraction).toBe(1);
    expect(t).toBe(1100);
    expect(rate.apply(20)).toBe(20);
  });

  it('starts the quiet period over on any 429', () => {
    const rate = new AdaptiveRate(1200);
    rate.throttled(0);
    rate.throttled(90); // ignored for the rate, but not quiet
    expect(rate.succeeded(150)).toBe(false);
    expect(rate.succeeded(190)).toBe(true);
  });

  it('never changes when disabled', () => {
    const rate = new AdaptiveRate(1200, false);
    expect(rate.throttled(0)).toBe(false);
    expect(rate.fraction).toBe(1);
  });
});
