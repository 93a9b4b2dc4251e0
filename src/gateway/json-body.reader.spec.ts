import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonBodyReader } from './json-body.reader';

/**
 * The reader on a plain Node server whose handler runs it a turn after the request came, when the
 * request's message is already complete (as after an asynchronous middleware).
 */
describe('jsonBodyReader after the request is complete', () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    const reader = jsonBodyReader(1024);
    server = http.createServer((req, res) => {
      setImmediate(() => {
        const complete = req.complete;
        reader(req, res, (error?: unknown) => {
          const body = (req as { body?: unknown }).body;
          res.end(
            JSON.stringify({
              complete,
              error: error instanceof Error ? error.message : null,
              body,
            }),
          );
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['a body', '{"messages":[{"role":"user","content":"Hi"}]}'],
    ['an empty body (read as {})', ''],
  ])('takes %s at once', async (_case, body) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const answer = (await res.json()) as { complete: boolean; error: string | null; body: unknown };
    expect(answer).toEqual({
      complete: true,
      error: null,
      body: body === '' ? {} : (JSON.parse(body) as unknown),
    });
  });
});

/**
 * The reader as the gateway runs it: at once, in the request's handler. The body is handed on as
 * Node's parser reads it, before the request's message is complete, and the request still ends.
 */
describe('jsonBodyReader as the request comes', () => {
  let server: http.Server;
  let url: string;
  const ended: string[] = [];

  beforeAll(async () => {
    const reader = jsonBodyReader(1024);
    server = http.createServer((req, res) => {
      req.once('end', () => ended.push(req.url!));
      reader(req, res, (error?: unknown) => {
        const body = (req as { body?: unknown }).body;
        res.end(
          JSON.stringify({
            complete: req.complete,
            ended: req.readableEnded,
            // The reader's own listeners are gone once it handed the body on.
            listeners: req.listenerCount('data') + req.listenerCount('close'),
            error: error instanceof Error ? error.message : null,
            body,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands a body that came with the headers on before the message is complete', async () => {
    const body = '{"messages":[{"role":"user","content":"Hi"}]}';
    const res = await fetch(`${url}/whole`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(await res.json()).toEqual({
      complete: false,
      ended: false,
      listeners: 0,
      error: null,
      body: JSON.parse(body) as unknown,
    });
    // The request still ends, as for any reader.
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toContain('/whole');
  });

  it('reads an empty body (Content-Length: 0) as {} at once, and the request still ends', async () => {
    const res = await fetch(`${url}/empty`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '0' },
    });
    expect(await res.json()).toMatchObject({ error: null, body: {}, listeners: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toContain('/empty');
  });

  it('takes a body sent in parts once the last part comes', async () => {
    const body = '{"messages":[{"role":"user","content":"in parts"}]}';
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${url}/parts`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.write(body.slice(0, 7), () => setTimeout(() => req.end(body.slice(7)), 20));
    });
    expect(JSON.parse(answer)).toMatchObject({
      error: null,
      listeners: 0,
      body: JSON.parse(body) as unknown,
    });
  });
});
