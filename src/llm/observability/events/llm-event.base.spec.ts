import { isoTime } from './llm-event.base';

describe('isoTime', () => {
  it("writes every time as Date's toISOString does, within a second and across seconds", () => {
    const start = Date.UTC(2026, 10, 27, 1, 2, 3, 0);
    // Back and forth across second, minute and day boundaries, and fractions of a millisecond.
    const times = [
      start,
      start + 5,
      start + 45,
      start + 999,
      start + 1000,
      start - 1,
      start + 45.7,
    ];
    for (let ms = Date.UTC(2026, 11, 31, 23, 59, 58); ms < Date.UTC(2027, 0, 1, 0, 0, 2); ms += 7) {
      times.push(ms);
    }
    times.push(0, 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.now());
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('leaves years outside 0000-9999 and non-times to toISOString', () => {
    for (const ms of [-1, -86_400_000.5, Date.UTC(10000, 0, 1), 8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
