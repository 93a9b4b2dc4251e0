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
});
