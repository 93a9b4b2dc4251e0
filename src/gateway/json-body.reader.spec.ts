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
