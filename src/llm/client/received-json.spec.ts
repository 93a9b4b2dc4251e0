import {
  holdReceivedJson,
  keepHeldJson,
  keepReceivedJson,
  MAX_KEPT_CHARS,
  receivedJson,
} from './received-json';

describe('receivedJson', () => {
  it('gives the text an object was parsed from, and leaves the object as parsed', () => {
    const text = '{ "id": "c1", "n": 1.50 }';
    const parsed = JSON.parse(text) as object;
    keepReceivedJson(parsed, text);

    expect(receivedJson(parsed)).toBe(text);
    expect(parsed).toEqual({ id: 'c1', n: 1.5 });
    expect(Object.getOwnPropertySymbols(parsed)).toEqual([]);
  });

  it('serialises anything it does not hold: other objects, arrays, scalars, null', () => {
    const kept = JSON.parse('{"a": 1}') as object;
    keepReceivedJson(kept, '{"a": 1}');

    expect(receivedJson({ a: 1 })).toBe('{"a":1}');
    expect(receivedJson([1, 2])).toBe('[1,2]');
    expect(receivedJson('x')).toBe('"x"');
    expect(receivedJson(null)).toBe('null');
  });

  it('serialises a text with a line break when one line is asked for', () => {
    const text = '{"a":\n1}';
    const parsed = JSON.parse(text) as object;
    keepReceivedJson(parsed, text);

    expect(receivedJson(parsed)).toBe(text);
    expect(receivedJson(parsed, true)).toBe('{"a":1}');
  });

  it(`keeps no text longer than ${MAX_KEPT_CHARS} characters`, () => {
    const atMost = `{"s":"${'x'.repeat(MAX_KEPT_CHARS - 8)}"}`;
    const over = ` ${atMost} `;
    const first = JSON.parse(atMost) as object;
    const second = JSON.parse(over) as object;
    keepReceivedJson(first, atMost);
    keepReceivedJson(second, over);

    expect(atMost).toHaveLength(MAX_KEPT_CHARS);
    expect(receivedJson(first)).toBe(atMost);
    expect(receivedJson(second)).toBe(atMost);
  });

  it('gives a held text, before and after it is moved into the map, and after the next hold', () => {
    const texts = ['{ "n": 1.0 }', '{ "n": 2.0 }', '{ "n": 3.0 }'];
    const [first, second, third] = texts.map((text) => JSON.parse(text) as object);
    holdReceivedJson(first!, texts[0]!);
    expect(receivedJson(first)).toBe(texts[0]);
    keepHeldJson();
    expect(receivedJson(first)).toBe(texts[0]);
    // Held, then another held before it was moved: both still found.
    holdReceivedJson(second!, texts[1]!);
    holdReceivedJson(third!, texts[2]!);
    expect([first, second, third].map((parsed) => receivedJson(parsed))).toEqual(texts);
    expect(receivedJson(third, true)).toBe(texts[2]);
    keepHeldJson();
    keepHeldJson();
    expect([first, second, third].map((parsed) => receivedJson(parsed))).toEqual(texts);
    expect(receivedJson({ n: 3 })).toBe('{"n":3}');
    expect(Object.getOwnPropertySymbols(third)).toEqual([]);
  });

  it(`holds no text longer than ${MAX_KEPT_CHARS} characters, and a held one with a line break is one line when asked`, () => {
    const over = ` {"s":"${'x'.repeat(MAX_KEPT_CHARS)}"} `;
    const parsed = JSON.parse(over) as object;
    holdReceivedJson(parsed, over);
    expect(receivedJson(parsed)).toBe(JSON.stringify(parsed));
    const broken = '{"a":\n1}';
    const held = JSON.parse(broken) as object;
    holdReceivedJson(held, broken);
    expect(receivedJson(held)).toBe(broken);
    expect(receivedJson(held, true)).toBe('{"a":1}');
    keepHeldJson();
  });
});
