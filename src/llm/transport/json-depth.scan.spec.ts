import { JsonDepthScan, nestsDeeperThan } from './json-depth.scan';

/** Pushes `text` to a new scan in parts of `size` bytes; whether it stayed within `max`. */
function within(text: string, max: number, size = Infinity): boolean {
  const scan = new JsonDepthScan(max);
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    if (!scan.push(bytes.subarray(i, Math.min(bytes.length, i + size)))) return false;
  }
  return true;
}

describe('JsonDepthScan', () => {
  it('counts arrays and objects, not the brackets in strings', () => {
    expect(within('{"a":[[1]]}', 3)).toBe(true);
    expect(within('{"a":[[[1]]]}', 3)).toBe(false);
    expect(within('{"a":"[[[[{{{{"}', 1)).toBe(true);
    expect(within('[{}, {}, [], []]', 2)).toBe(true);
  });

  it('follows escapes: an escaped quote does not end the string, an escaped backslash does not escape it', () => {
    expect(within('["\\"[[[[", "x"]', 1)).toBe(true);
    expect(within('["\\\\", [[1]]]', 2)).toBe(false);
    expect(within('["a\\\\"]', 1)).toBe(true);
  });

  it('reads the same in parts of any size, escapes and strings split between parts', () => {
    const texts = [
      '{"messages":[{"role":"user","content":"say \\"[[[\\" and \\\\"}]}',
      '{"a":"\\u005b\\u005b","b":[[["x"]]]}',
    ];
    for (const text of texts) {
      for (const max of [2, 3, 4]) {
        const whole = within(text, max);
        for (const size of [1, 2, 3, 7])
          expect([text, max, size, within(text, max, size)]).toEqual([text, max, size, whole]);
      }
    }
  });

  it('reads a string as it reads its UTF-8 bytes', () => {
    for (const text of [
      '{"a":[[1]]}',
      '{"a":"[[[[{{{{"}',
      '["\\"[[[[", "x"]',
      '["\\\\", [[1]]]',
      '{"é":"😀[[","b":[[["漢"]]]}',
      '[[[[',
    ]) {
      for (const max of [1, 2, 3]) {
        expect([text, max, !nestsDeeperThan(text, max)]).toEqual([text, max, within(text, max)]);
      }
    }
  });

  it('counts object members across parts, not the colons in strings, and says which bound it passed', () => {
    const members = (text: string, max: number, size = Infinity) => {
      const scan = new JsonDepthScan(128, { members: max });
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length; i += size) {
        if (!scan.push(bytes.subarray(i, Math.min(bytes.length, i + size)))) return scan.refused;
      }
      return scan.refused ?? 'within';
    };
    const text = String.raw`{"a":1,"b":{"c":"x:y:z","d":[{"e":2}]},"f\":":3}`;
    // a, b, c, d, e and f": six members; the colons inside strings (after an escaped quote too) are not.
    for (const size of [Infinity, 1, 2, 5]) {
      expect([size, members(text, 6, size)]).toEqual([size, 'within']);
      expect([size, members(text, 5, size)]).toEqual([size, 'members']);
    }
    const deep = new JsonDepthScan(2, { members: 10 });
    expect(deep.push('[[[')).toBe(false);
    expect(deep.refused).toBe('depth');
    // Once refused, every later part is refused too.
    expect(deep.push(']]]')).toBe(false);
  });

  it('counts objects and arrays, and commas, outside strings', () => {
    const refusal = (text: string, bounds: { containers?: number; commas?: number }) => {
      const scan = new JsonDepthScan(128, bounds);
      return scan.push(text) ? 'within' : scan.refused;
    };
    const text = '{"a":[{},[],{"b":"{[,]}"}],"c":[1,2,3]}';
    // Six objects and arrays, five commas; those in the string are not counted.
    expect(refusal(text, { containers: 6, commas: 5 })).toBe('within');
    expect(refusal(text, { containers: 5 })).toBe('containers');
    expect(refusal(text, { commas: 4 })).toBe('commas');
  });

  it('is linear in the body: 3 MB of short strings, or of escapes, in well under a second', () => {
    // Searching for both the next quote and backslash afresh at every string read to the end of
    // the body each time: the first of these took 19 s.
    for (const text of [
      `{"x":[${Array(750_000).fill('""').join(',')}]}`,
      `{"x":"${'\\u00e9'.repeat(500_000)}"}`,
    ]) {
      const startedAt = performance.now();
      expect(within(text, 128)).toBe(true);
      expect(nestsDeeperThan(text, 128)).toBe(false);
      expect(performance.now() - startedAt).toBeLessThan(1000);
    }
  });
});
