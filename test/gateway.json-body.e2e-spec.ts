import * as http from 'node:http';
import * as net from 'node:net';
import { gzipSync } from 'node:zlib';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * The chat body's reading (src/gateway/json-body.reader.ts): a `Content-Length` JSON body takes
 * the fast reader, a chunked one body-parser, and both must answer alike, byte for byte.
 */
describe('gateway: reading the JSON body of a chat call', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ apiKey: 'sk-body-test' });
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-body-test',
      // The reader is Express' (Fastify parses with its own parser, see gateway.platforms).
      GATEWAY_HTTP_PLATFORM: 'express',
    });
  });
  afterAll(async () => {
    await gateway.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  /** One POST with exactly these bytes: with Content-Length, or chunked (no length). */
  function send(
    body: string | Buffer,
    { chunked = false, headers = {} }: { chunked?: boolean; headers?: http.OutgoingHttpHeaders },
  ): Promise<Answer> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'x-request-id': 'req-body-1',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': bytes.length }),
          ...headers,
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
      // In two writes, so the body arrives in more than one chunk.
      const half = Math.floor(bytes.length / 2);
      req.write(bytes.subarray(0, half));
      req.end(bytes.subarray(half));
    });
  }

  /** The same bytes through both readers answer the same status, content type and body. */
  async function bothAlike(body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) {
    const fast = await send(body, { headers });
    const parser = await send(body, { chunked: true, headers });
    expect(fast.status).toBe(parser.status);
    expect(fast.headers['content-type']).toBe(parser.headers['content-type']);
    expect(fast.headers['x-request-id']).toBe(parser.headers['x-request-id']);
    // A completion has its own id and time; an error body must be the same bytes.
    if (fast.status !== 200) expect(fast.body).toBe(parser.body);
    return fast;
  }

  it.each([
    ['truncated JSON', '{"messages": ['],
    ['a bare word', 'nope'],
    ['only whitespace', '   '],
  ])(
    'answers %s with the same 400 invalid_json as body-parser, without an upstream call',
    async (_case, body) => {
      const answer = await bothAlike(body);
      expect(answer.status).toBe(400);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      expect(error).toMatchObject({ code: 'invalid_json', param: null });
      expect(error.message).toMatch(/^The request body is not valid JSON \(.+\)/s);
      expect(sim.requests).toHaveLength(0);
    },
  );

  it.each([
    ['an empty body (read as {})', '', 'messages'],
    ['an array', '[1]', null],
  ])('answers %s with the same 400 as body-parser', async (_case, body, param) => {
    const answer = await bothAlike(body);
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.body) as ErrorBody).error.param).toBe(param);
    expect(sim.requests).toHaveLength(0);
  });

  it.each([
    ['null', 'null'],
    ['a string at the top', '"Hello"'],
    ['a number after whitespace', ' \n 42'],
    ['an array', '[1]'],
  ])(
    'answers JSON that is not an object (%s) with a 400 saying so, not as invalid JSON',
    async (_case, body) => {
      const answer = await bothAlike(body);
      expect(answer.status).toBe(400);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      expect(error).toMatchObject({ type: 'invalid_request_error', param: null });
      expect(error.code).not.toBe('invalid_json');
      expect(error.message).toMatch(/^The request body must be a JSON object/);
      expect(sim.requests).toHaveLength(0);
    },
  );

  it('passes the body on unchanged, multi-byte text and a leading BOM included', async () => {
    sim.script([
      { type: 'ok', content: 'a' },
      { type: 'ok', content: 'b' },
    ]);
    const content = 'héllo – 你好 🙂 '.repeat(5_000);
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify({ messages: [{ role: 'user', content }] })),
    ]);
    const fast = await send(body, {});
    const parser = await send(body, { chunked: true });
    expect([fast.status, parser.status]).toEqual([200, 200]);
    const sent = sim.requests.map(
      (r) => (r.body as { messages: Array<{ content: string }> }).messages[0]?.content,
    );
    expect(sent).toEqual([content, content]);
  });

  it.each([
    ['application/json; charset=utf-8', 200],
    ['Application/JSON; charset="UTF-8"', 200],
    ['application/json ; charset=utf-8', 200],
    // JSON is UTF-8 only: in UTF-16 the nesting scan could not see brackets for quotes.
    ['application/json; charset=utf-16', 415],
    ['application/json;charset=latin1', 415],
  ])('reads the media type %s as body-parser does (%d)', async (type, status) => {
    sim.script([
      { type: 'ok', content: 'a' },
      { type: 'ok', content: 'b' },
    ]);
    const answer = await bothAlike(JSON.stringify({ messages: MESSAGES }), {
      'content-type': type,
    });
    expect(answer.status).toBe(status);
  });

  it.each([
    [
      'another charset',
      { 'content-type': 'application/json; charset=latin1' },
      'x',
      415,
      'unsupported_charset',
    ],
    [
      'an unknown content encoding',
      { 'content-encoding': 'gzip, gzip' },
      'x',
      415,
      'unsupported_content_encoding',
    ],
    ['gzip that is not', { 'content-encoding': 'gzip' }, 'not gzip at all', 400, 'invalid_body'],
  ])(
    'answers %s with a code and what to send instead, not only the parser’s words',
    async (_case, headers, body, status, code) => {
      const answer = await send(body, { headers });
      expect(answer.status).toBe(status);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      expect(error).toMatchObject({ type: 'invalid_request_error', code });
      expect(error.message).toMatch(/^The request body (must|could not)/);
      expect(sim.requests).toHaveLength(0);
    },
  );

  it('refuses a UTF-16 body, which the nesting scan cannot read, before it is parsed', async () => {
    // U+2200 is the bytes 00 22: read as UTF-8, a quote, and every bracket after it uncounted.
    const deep = `{"a":"\u2200","b":${'['.repeat(200)}${']'.repeat(200)}}`;
    const answer = await send(Buffer.from(deep, 'utf16le'), {
      headers: { 'content-type': 'application/json; charset=utf-16le' },
    });
    expect(answer.status).toBe(415);
    expect((JSON.parse(answer.body) as ErrorBody).error.code).toBe('unsupported_charset');
    expect(sim.requests).toHaveLength(0);
  });

  it('inflates a gzip body as before (body-parser reads it)', async () => {
    sim.script([{ type: 'ok', content: 'zipped' }]);
    const body = gzipSync(JSON.stringify({ messages: MESSAGES }));
    const answer = await send(body, { headers: { 'content-encoding': 'gzip' } });
    expect(answer.status).toBe(200);
    expect(sim.requests).toHaveLength(1);
  });

  it('answers a body over 10 MiB with 413 payload_too_large, declared or chunked', async () => {
    const body = JSON.stringify({
      messages: [{ role: 'user', content: 'x'.repeat(10 * 1024 * 1024) }],
    });
    const answer = await bothAlike(body);
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as ErrorBody).error.code).toBe('payload_too_large');
    expect(sim.requests).toHaveLength(0);
  });

  it('answers a declared 1 GB body with 413 at once, without waiting for it, and closes', async () => {
    const startedAt = Date.now();
    const answer = await new Promise<{ status: string; connection?: string }>((resolve, reject) => {
      const socket = net.connect(Number(new URL(gateway.url).port), '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (piece: string) => {
        text += piece;
        const head = text.split('\r\n\r\n')[0]!;
        if (text.includes('\r\n\r\n')) {
          resolve({
            status: head.split(' ')[1]!,
            connection: /\r\nconnection: (\S+)/i.exec(head)?.[1],
          });
          socket.destroy();
        }
      });
      socket.once('error', reject);
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
          'content-length: 1000000000\r\n\r\n{"messages":[',
      );
      // Then nothing more: the answer must not wait for the rest.
    });
    expect(answer).toEqual({ status: '413', connection: 'close' });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(sim.requests).toHaveLength(0);
  });

  it('reads a declared body a little over the limit to its end, so a client still sending gets the 413', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(12 * 1024 * 1024, 0x20),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as ErrorBody).error.code).toBe('payload_too_large');
    }
  });

  it('accepts a body of exactly 10 MiB', async () => {
    sim.script([{ type: 'ok', content: 'big' }]);
    const frame = JSON.stringify({ messages: [{ role: 'user', content: '' }] });
    const body = frame.replace('""', `"${'y'.repeat(10 * 1024 * 1024 - frame.length)}"`);
    expect(Buffer.byteLength(body)).toBe(10 * 1024 * 1024);
    const answer = await send(body, {});
    expect(answer.status).toBe(200);
    expect(sim.requests).toHaveLength(1);
  });

  it("ends the request as any reader would: its 'end' and 'close' still come, after the body is taken", async () => {
    const server = gateway.app.getHttpServer() as http.Server;
    const seen: string[] = [];
    const watch = (req: http.IncomingMessage) => {
      req.once('end', () =>
        seen.push(`end, body ${(req as { body?: unknown }).body ? 'taken' : 'not taken'}`),
      );
      req.once('close', () => seen.push('close'));
    };
    server.prependListener('request', watch);
    try {
      sim.script([
        { type: 'ok', content: 'one' },
        { type: 'ok', content: 'two' },
      ]);
      // Whole (one write), and in two parts, the second after a pause.
      const whole = await send(JSON.stringify({ messages: MESSAGES }), {});
      const parts = await sendInParts(JSON.stringify({ messages: MESSAGES }));
      expect([whole.status, parts]).toEqual([200, 200]);
    } finally {
      server.off('request', watch);
    }
    expect(seen).toEqual(['end, body taken', 'close', 'end, body taken', 'close']);
    expect(sim.requests).toHaveLength(2);
  });

  /** A Content-Length body sent in two writes 30 ms apart: the status answered. */
  function sendInParts(body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.write(body.slice(0, 10), () => setTimeout(() => req.end(body.slice(10)), 30));
    });
  }

  it('makes no upstream call for a client that leaves mid-body, and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 1_000 },
      });
      req.on('error', () => resolve());
      req.write('{"messages": [', () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    sim.script([{ type: 'ok', content: 'still here' }]);
    const answer = await send(JSON.stringify({ messages: MESSAGES }), {});
    expect(answer.status).toBe(200);
    expect(sim.requests).toHaveLength(1);
  });
});

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
