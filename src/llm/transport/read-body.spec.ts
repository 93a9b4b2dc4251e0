import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { readBody, readWholeBody, receivedBody } from './read-body';

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
      message: 'the body is larger than 4 bytes',
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

describe('receivedBody', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = '{"text":"Grüße"}';
      const headers = { 'content-length': Buffer.byteLength(body) };
      if (req.url === '/later') {
        // The head now, the body a moment later: not there when the head is handled.
        res.writeHead(200, headers).flushHeaders();
        setTimeout(() => res.end(body), 20);
        return;
      }
      res.writeHead(200, headers).end(body); // head and body in one write
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The response as a caller awaiting its headers sees it: one promise turn after `response`. */
  function response(path: string): Promise<{ res: IncomingMessage; socket: Socket }> {
    return new Promise((resolve, reject) => {
      const req = request(`${origin}${path}`, { agent }, (res) =>
        resolve({ res, socket: req.socket! }),
      );
      req.on('error', reject).end();
    });
  }

  it('takes a body that came with the head at once, and the stream still ends and frees its socket', async () => {
    const { res, socket } = await response('/');
    expect(receivedBody(res)).toBe('{"text":"Grüße"}');
    await new Promise((resolve) => res.once('end', resolve));
    const next = await response('/');
    expect(next.socket).toBe(socket); // back in the agent's pool: reused
    expect(receivedBody(next.res)).toBe('{"text":"Grüße"}');
  });

  it('leaves a body still arriving, or one past maxBytes, to readWholeBody', async () => {
    const later = await response('/later');
    expect(receivedBody(later.res)).toBeUndefined();
    expect(await readWholeBody(later.res)).toBe('{"text":"Grüße"}');

    const big = await response('/');
    expect(receivedBody(big.res, 4)).toBeUndefined();
    await expect(readWholeBody(big.res, 4)).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });

    // Not an HTTP response (a decoder's output): never taken here.
    expect(receivedBody(Readable.from([Buffer.from('{}')]))).toBeUndefined();
  });
});
