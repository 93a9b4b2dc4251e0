import { SSE_LINE_TOO_LONG, SseParser, type SseEvent } from './sse-parser';

/** Feeds the chunks one by one and collects everything, including what `end()` returns. */
function parse(...chunks: string[]): SseEvent[] {
  const parser = new SseParser();
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

describe('SseParser', () => {
  it('dispatches an event on a blank line', () => {
    expect(parse('data: {"a":1}\n\n')).toEqual([{ type: 'event', data: '{"a":1}' }]);
  });

  it('returns nothing until the blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: hello\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ type: 'event', data: 'hello' }]);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('accepts %s line endings', (_name, eol) => {
    expect(parse(`data: a${eol}data: b${eol}${eol}data: c${eol}${eol}`)).toEqual([
      { type: 'event', data: 'a\nb' },
      { type: 'event', data: 'c' },
    ]);
  });

  it('reads the same events from a stream with line feeds only as with CRLF, however it is cut', () => {
    const stream =
      ': keep-alive\n\nevent: delta\nid: 7\ndata: {"a":1}\ndata: {"b":2}\n\n' +
      'data: x\n\nid: 8\ndata:y\n\ndata: [DONE]\n\n';
    const expected: SseEvent[] = [
      { type: 'comment', text: 'keep-alive' },
      { type: 'event', event: 'delta', id: '7', data: '{"a":1}\n{"b":2}' },
      { type: 'event', id: '7', data: 'x' },
      { type: 'event', id: '8', data: 'y' },
      { type: 'event', id: '8', data: '[DONE]' },
    ];
    const crlf = stream.replaceAll('\n', '\r\n');
    for (const text of [stream, crlf]) {
      expect(parse(text)).toEqual(expected);
      for (let cut = 1; cut < text.length; cut += 7) {
        expect(parse(text.slice(0, cut), text.slice(cut))).toEqual(expected);
      }
    }
  });

  it('treats a \\r\\n split across chunks as one line break', () => {
    expect(parse('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([
      { type: 'event', data: 'a\nb' },
    ]);
  });

  it('does not lose a split \\r\\n when an empty chunk comes between', () => {
    expect(parse('data: a\r', '', '\ndata: b\n\n')).toEqual([{ type: 'event', data: 'a\nb' }]);
  });

  it('treats \\r then \\r as two line breaks, dispatching the event', () => {
    expect(parse('data: a\r', '\r')).toEqual([{ type: 'event', data: 'a' }]);
  });

  it('reassembles a line split in the middle of a field', () => {
    expect(parse('da', 'ta: hel', 'lo\n', '\n')).toEqual([{ type: 'event', data: 'hello' }]);
  });

  it('removes only one space after the colon', () => {
    expect(parse('data:  two\ndata:none\n\n')).toEqual([{ type: 'event', data: ' two\nnone' }]);
  });

  it('reads a field without a colon as an empty value', () => {
    expect(parse('data\ndata\n\n')).toEqual([{ type: 'event', data: '\n' }]);
  });

  it('dispatches an event whose only data line is empty', () => {
    expect(parse('data:\n\n')).toEqual([{ type: 'event', data: '' }]);
  });

  it('returns comment lines as comments, in stream order', () => {
    expect(parse(': keep-alive\n\ndata: x\n:ping\n\n')).toEqual([
      { type: 'comment', text: 'keep-alive' },
      { type: 'comment', text: 'ping' },
      { type: 'event', data: 'x' },
    ]);
  });

  it('carries the event type, and resets it after dispatch', () => {
    expect(parse('event: error\ndata: {}\n\ndata: next\n\n')).toEqual([
      { type: 'event', event: 'error', data: '{}' },
      { type: 'event', data: 'next' },
    ]);
  });

  it('keeps the last id for later events until an empty id resets it', () => {
    expect(parse('id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n')).toEqual([
      { type: 'event', id: '7', data: 'a' },
      { type: 'event', id: '7', data: 'b' },
      { type: 'event', data: 'c' },
    ]);
  });

  it('ignores an id that contains NUL', () => {
    expect(parse('id: 1\n\nid: a\0b\ndata: x\n\n')).toEqual([
      { type: 'event', id: '1', data: 'x' },
    ]);
  });

  it('dispatches nothing for a block without data', () => {
    expect(parse('event: ping\n\nretry: 1000\nfoo: bar\n\n')).toEqual([]);
  });

  it('does not let an event type without data leak into the next event', () => {
    expect(parse('event: ping\n\ndata: x\n\n')).toEqual([{ type: 'event', data: 'x' }]);
  });

  it('ignores one leading BOM', () => {
    expect(parse('\uFEFFdata: x\n\n')).toEqual([{ type: 'event', data: 'x' }]);
  });

  it('keeps a BOM that is not at the start of the stream', () => {
    expect(parse('data: a\n\n', '\uFEFFdata: b\n\n')).toEqual([{ type: 'event', data: 'a' }]);
  });

  it('discards an event without its blank line on end(), per spec', () => {
    const parser = new SseParser();
    expect(parser.push('data: complete\n\ndata: cut\n')).toEqual([
      { type: 'event', data: 'complete' },
    ]);
    expect(parser.end()).toEqual([]);
  });

  it('discards an unterminated last line on end()', () => {
    expect(parse('data: [DONE]')).toEqual([]);
  });

  it('starts afresh after end()', () => {
    const parser = new SseParser();
    parser.push('id: 3\ndata: cut');
    parser.end();
    expect(parser.push('data: new\n\n')).toEqual([{ type: 'event', data: 'new' }]);
  });

  it('parses an OpenAI chat stream fed one character at a time', () => {
    const stream =
      'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n' +
      ': OPENROUTER PROCESSING\n\n' +
      'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: [DONE]\n\n';
    expect(parse(...stream.split(''))).toEqual([
      { type: 'event', data: '{"choices":[{"delta":{"content":"Hi"}}]}' },
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
      { type: 'event', data: '{"choices":[{"delta":{},"finish_reason":"stop"}]}' },
      { type: 'event', data: '[DONE]' },
    ]);
  });

  it('refuses a line longer than its maximum, even one sent in pieces', () => {
    const parser = new SseParser(100);
    expect(parser.push(`data: ${'x'.repeat(60)}`)).toEqual([]);
    expect(() => parser.push('x'.repeat(60))).toThrow(
      expect.objectContaining({ code: SSE_LINE_TOO_LONG }) as Error,
    );
  });

  it('refuses an event whose data lines together pass the maximum, though each line is short', () => {
    const parser = new SseParser(100);
    // 9 lines of 10 characters joined by 8 line breaks: 98, under the maximum.
    expect(parser.push('data: xxxxxxxxxx\n'.repeat(9))).toEqual([]);
    expect(() => parser.push('data: xxxxxxxxxx\n')).toThrow(
      expect.objectContaining({ code: SSE_LINE_TOO_LONG }) as Error,
    );
  });

  it('accepts an event whose data is exactly the maximum, and counts each event anew', () => {
    const parser = new SseParser(100);
    // 9 lines of 10 and one of 1, joined by 9 line breaks: 100.
    const event = `${'data: xxxxxxxxxx\n'.repeat(9)}data: y\n\n`;
    const data = `${'xxxxxxxxxx\n'.repeat(9)}y`;
    expect(parser.push(event + event)).toEqual([
      { type: 'event', data },
      { type: 'event', data },
    ]);
  });

  it('accepts a line of exactly the maximum', () => {
    const parser = new SseParser(100);
    const line = `data: ${'x'.repeat(94)}`;
    expect(parser.push(`${line.slice(0, 50)}`)).toEqual([]);
    expect(parser.push(`${line.slice(50)}\n\n`)).toEqual([{ type: 'event', data: 'x'.repeat(94) }]);
  });

  it('joins a long line sent in many pieces once, not once per piece', () => {
    const line = `data: ${'y'.repeat(800 * 1024)}\n\n`;
    const pieces = line.match(/[^]{1,1024}/g)!;
    const timed = (feed: (parser: SseParser) => unknown) => {
      const started = process.hrtime.bigint();
      const events = feed(new SseParser());
      return { events, ns: Number(process.hrtime.bigint() - started) };
    };
    const whole = timed((p) => p.push(line));
    const split = timed((p) => pieces.flatMap((piece) => p.push(piece)));
    expect(split.events).toEqual(whole.events);
    // Rescanning the pending text on every piece made this ~800 times the whole-line cost.
    expect(split.ns).toBeLessThan(Math.max(whole.ns, 1_000_000) * 50);
  });
});
