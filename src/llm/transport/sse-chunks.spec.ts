import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { readStreamItems } from './sse-chunks';

const event = (content: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`;

describe('readStreamItems', () => {
  it('reads no further while the items of a read chunk wait to be asked for', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    body.write(event('a') + ': keep-alive\n\n' + event('b'));
    body.write(event('c'));
    await tick();
    // The first chunk's three items wait; the second chunk stays in the body's buffer.
    expect(body.isPaused()).toBe(true);
    expect(body.readableLength).toBeGreaterThan(0);
    expect(await items.next()).toMatchObject({
      value: { type: 'data', raw: expect.stringContaining('"a"') as string },
    });
    expect(await items.next()).toEqual({ done: false, value: { type: 'keepalive' } });
    expect(body.readableLength).toBeGreaterThan(0);
    expect(await items.next()).toMatchObject({
      value: { raw: expect.stringContaining('"b"') as string },
    });
    expect(await items.next()).toMatchObject({
      value: { raw: expect.stringContaining('"c"') as string },
    });
    expect(body.readableLength).toBe(0);
    body.end('data: [DONE]\n\n');
    expect(await items.next()).toEqual({ done: false, value: { type: 'done' } });
    expect(await items.next()).toEqual({ done: true, value: undefined });
  });

  it('hands out what was read before a failure, then the failure', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    body.write(event('a'));
    await tick();
    body.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(await items.next()).toMatchObject({ done: false, value: { type: 'data' } });
    await expect(items.next()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('fails a body closed before its end as a premature close', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    const next = items.next();
    body.destroy();
    await expect(next).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('destroys the body when a line passes the maximum', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    const next = items.next();
    body.write(`data: ${'x'.repeat(1024 * 1024 + 1)}`);
    await expect(next).rejects.toMatchObject({ code: 'ERR_SSE_LINE_TOO_LONG' });
    expect(body.destroyed).toBe(true);
  });

  it('decodes characters split across chunks', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    const bytes = Buffer.from(event('é'));
    const split = bytes.indexOf(0xc3) + 1;
    body.write(bytes.subarray(0, split));
    body.end(bytes.subarray(split));
    expect(await items.next()).toMatchObject({
      value: { json: { choices: [{ delta: { content: 'é' } }] } },
    });
    expect(await items.next()).toEqual({ done: true, value: undefined });
  });

  it('hands out the items of one read without a promise, in order, and nothing before they arrive', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    expect(items.poll()).toBeUndefined();
    body.write(event('a') + ': keep-alive\n\n' + event('b'));
    await tick();
    expect(items.poll()).toMatchObject({
      type: 'data',
      raw: expect.stringContaining('"a"') as string,
    });
    expect(items.poll()).toEqual({ type: 'keepalive' });
    expect(items.poll()).toMatchObject({
      type: 'data',
      raw: expect.stringContaining('"b"') as string,
    });
    expect(items.poll()).toBeUndefined();
    // next() waits for what poll() could not give, and poll() gives nothing while it waits.
    const next = items.next();
    expect(items.poll()).toBeUndefined();
    body.end(event('c'));
    expect(await next).toMatchObject({ value: { raw: expect.stringContaining('"c"') as string } });
    expect(await items.next()).toEqual({ done: true, value: undefined });
  });

  it('joins an event split across reads, in the middle of its JSON', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    const text = event('split');
    const next = items.next();
    body.write(text.slice(0, 20));
    await tick();
    body.write(text.slice(20, -1));
    await tick();
    body.end(text.slice(-1));
    expect(await next).toMatchObject({
      value: { type: 'data', json: { choices: [{ delta: { content: 'split' } }] } },
    });
    expect(await items.next()).toEqual({ done: true, value: undefined });
  });

  it('with readOn, reads past an item it accepts up to the next one, so that one is at hand', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    items.readOn = (item) => item.type === 'keepalive';
    const first = items.next();
    body.write(': keep-alive\n\n');
    body.write(event('a'));
    body.write(event('b'));
    expect(await first).toEqual({ done: false, value: { type: 'keepalive' } });
    await tick();
    // Read on past the keep-alive to "a"; "a" is not accepted, so "b" waits in the body.
    expect(items.poll()).toMatchObject({ raw: expect.stringContaining('"a"') as string });
    expect(items.poll()).toBeUndefined();
    expect(body.isPaused()).toBe(true);
    expect(body.readableLength).toBeGreaterThan(0);
    expect(await items.next()).toMatchObject({
      value: { raw: expect.stringContaining('"b"') as string },
    });
  });

  it('without readOn, pauses after the item handed to a waiting next()', async () => {
    const body = new PassThrough();
    const items = readStreamItems(body);
    const first = items.next();
    body.write(': keep-alive\n\n');
    body.write(event('a'));
    expect(await first).toEqual({ done: false, value: { type: 'keepalive' } });
    await tick();
    expect(items.poll()).toBeUndefined();
    expect(body.readableLength).toBeGreaterThan(0);
    expect(await items.next()).toMatchObject({
      value: { raw: expect.stringContaining('"a"') as string },
    });
  });
});
