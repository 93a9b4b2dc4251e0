import { PassThrough, Readable } from 'node:stream';
import { readBody, readWholeBody } from './read-body';

describe('readBody / readWholeBody', () => {
  it('joins every chunk as UTF-8, also a character split across chunks', async () => {
    const bytes = Buffer.from('{"text":"Grüße"}');
    const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of 'ü'
    const body = Readable.from([bytes.subarray(0, split), bytes.subarray(split)]);
    expect(await readBody(body)).toBe('{"text":"Grüße"}');
  });

  it('keeps at most maxBytes and stops reading the rest', async () => {
    const body = new PassThrough();
    body.write('0123456789');
    const text = readBody(body, 4);
    expect(await text).toBe('0123');
    expect(body.destroyed).toBe(true);
  });

  it('fails past maxBytes when the whole body is needed', async () => {
    await expect(readWholeBody(Readable.from([Buffer.from('12345')]), 4)).rejects.toMatchObject({
      code: 'ERR_BODY_TOO_LARGE',
      message: 'maxContentLength size of 4 exceeded',
    });
    expect(await readWholeBody(Readable.from([Buffer.from('1234')]), 4)).toBe('1234');
  });

  it('rejects with the stream error, and on a close before the end', async () => {
    const failing = new PassThrough();
    const read = readBody(failing);
    failing.write('part');
    failing.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });

    const closed = new PassThrough();
    const cut = readBody(closed);
    closed.write('part');
    closed.destroy();
    await expect(cut).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('reports a body that failed before it was read', async () => {
    const failed = new PassThrough();
    failed.on('error', () => undefined);
    failed.destroy(Object.assign(new Error('gone'), { code: 'ECONNRESET' }));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(readBody(failed)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
