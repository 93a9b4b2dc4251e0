import { exceedsDepth } from './request-bounds';

describe('exceedsDepth', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = i % 2 ? { next: value } : [value];
    return value;
  };

  it('counts arrays and objects alike, and stops past the bound', () => {
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth({ a: [[1]] }, 2)).toBe(true);
    expect(exceedsDepth('text', 0)).toBe(false);
    expect(exceedsDepth({}, 0)).toBe(true);
  });

  it('looks at every branch, own values only', () => {
    const request = { messages: [{ role: 'user' }, { role: 'user', content: [{ x: [[]] }] }] };
    // request > messages > message > content > part > x > []
    expect(exceedsDepth(request, 6)).toBe(true);
    expect(exceedsDepth(request, 7)).toBe(false);
    const inherited = Object.create({ deep: nested(10) }) as object;
    expect(exceedsDepth(inherited, 1)).toBe(false);
  });

  it('walks a wide request, and the next one after it', () => {
    const wide = { messages: Array.from({ length: 3000 }, () => ({ content: [{ text: 'x' }] })) };
    expect(exceedsDepth(wide, 5)).toBe(false);
    expect(exceedsDepth(wide, 4)).toBe(true);
    expect(exceedsDepth({ a: { b: {} } }, 2)).toBe(true);
    expect(exceedsDepth({ a: { b: {} } }, 3)).toBe(false);
  });

  it('walks a request that a getter walks again meanwhile', () => {
    const inner = nested(5);
    const request = {
      get content(): unknown {
        expect(exceedsDepth(inner, 4)).toBe(true);
        return [nested(2)];
      },
    };
    // request > content > { next } > [leaf]
    expect(exceedsDepth(request, 4)).toBe(false);
    expect(exceedsDepth(request, 3)).toBe(true);
    // Nothing is left behind for the next walk.
    expect(exceedsDepth({ a: 1 }, 1)).toBe(false);
  });
});
