import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { ResolvedUpstream } from '../llm-module.options';
import { resolveLlmOptions } from '../options/llm-options.resolver';
import { isLlmError } from '../resilience/llm.errors';
import {
  LlmHttpTransport,
  type UpstreamRequest,
  type UpstreamResponse,
} from './llm-http.transport';
import { enableBuiltInHttpTelemetry } from './http-telemetry';
import { readBody, receivedBody } from './read-body';
import { classifyTransportError } from './transport-error';

const KEY = 'sk-test-0123456789abcdefghijklmnop';

/** Node's agents take `proxyEnv` from 22.21 (22.x) and 24.5 on; older ones ignore it. */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const agentsTakeProxyEnv =
  (major === 22 && minor >= 21) || (major === 24 && minor >= 5) || major > 24;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback upstream that records every request and answers with `answer`. */
async function startUpstream(
  answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{ server: Server; seen: Seen[]; baseUrl: string }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, seen, baseUrl: `http://127.0.0.1:${port}/v1` };
}

function upstreamAt(baseUrl: string, headers: Record<string, string> = {}): ResolvedUpstream {
  const options = resolveLlmOptions({
    upstreams: [{ name: 'up', baseUrl, apiKey: KEY, defaultModel: 'm', headers }],
  });
  return options.upstreams.get('up')!;
}

function requestOf(overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    path: '/chat/completions',
    body: { model: 'm', messages: [{ role: 'user', content: 'Grüße' }] },
    signal: new AbortController().signal,
    headers: { 'x-client-request-id': 'req-1' },
    responseType: 'text',
    ...overrides,
  };
}

/** Reads what a meter provider holds, on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The `http.client.request.duration` points the reader holds now. */
async function clientDurations(reader: TestReader): Promise<DataPoint<Histogram>[]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === 'http.client.request.duration');
  return (metric?.dataPoints ?? []) as DataPoint<Histogram>[];
}

function serverOf(port: number): Record<string, string | number> {
  return { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': port };
}

describe('LlmHttpTransport', () => {
  const closers: Array<() => Promise<unknown>> = [];
  let transport: LlmHttpTransport;

  beforeEach(() => {
    transport = new LlmHttpTransport();
  });

  afterEach(async () => {
    transport.onApplicationShutdown();
    for (const close of closers.splice(0)) await close();
  });

  async function upstreamServer(answer: Parameters<typeof startUpstream>[0]) {
    const started = await startUpstream(answer);
    closers.push(() => new Promise((resolve) => started.server.close(resolve)));
    return started;
  }

  /**
   * A loopback upstream over raw TCP that keeps each request's bytes as they came (`requests`)
   * and answers each whole request (head and `content-length` body) with `answer()`'s bytes.
   */
  async function rawUpstream(
    host: string,
    answer: () => string | Buffer = () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}',
  ): Promise<{ port: number; requests: string[] }> {
    const requests: string[] = [];
    const server = createTcpServer((socket) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const head = text.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text);
        if (head === -1 || !length || text.length < head + 4 + Number(length[1])) return;
        requests.push(text);
        text = '';
        socket.write(answer());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return { port: (server.address() as AddressInfo).port, requests };
  }

  it('POSTs the JSON body with its byte length, and merges headers: ours, the upstream’s, the attempt’s, the key', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => res.end('{}'));
    const upstream = upstreamAt(baseUrl, {
      Accept: 'application/json',
      'x-team': 'a',
    });
    const response = await transport.send(
      upstream,
      requestOf({ headers: { 'x-team': 'b', 'x-attempt': '2' } }),
    );
    expect(await readBody(response.body as Readable)).toBe('{}');
    expect(seen).toHaveLength(1);
    const [first] = seen;
    expect(first).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    const body = JSON.stringify(requestOf().body);
    expect(first!.body).toBe(body);
    expect(first!.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-team': 'b',
      'x-attempt': '2',
      'user-agent': 'nestjs-resilient-llm',
      authorization: `Bearer ${KEY}`,
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length); // 'ü' and 'ß' are two bytes
  });

  it('with the built-in HTTP telemetry (headers handed to Node as a list) sends the same bytes', async () => {
    const { port, requests } = await rawUpstream('::1');
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{}, { 'x-client-request-id': 'req-1', 'x-llm-attempt': '1' }],
      // An upstream header of its own, then one the attempt sets again (the list from the object).
      [{ 'x-team': 'a' }, { 'x-client-request-id': 'req-2', 'x-llm-attempt': '2' }],
      [{ 'x-team': 'a' }, { 'x-team': 'b', 'x-llm-attempt': '2' }],
      // Names in other cases than ours: the later one takes the earlier's place, as setHeader does.
      [
        { Accept: 'text/plain', 'X-Team': 'a', 'x-team': 'b' },
        { 'X-LLM-Attempt': '2', 'x-llm-attempt': '3', 'x-team': 'c' },
      ],
      // A Latin-1 value: the body goes apart from the head, as bytes.
      [{ 'x-team': 'é' }, { 'x-client-request-id': 'id\r\n-1' }],
      // A Host of the caller's own, which Node then does not add.
      [{ Host: 'api.example' }, {}],
    ];
    const send = async (
      upstreamHeaders: Record<string, string>,
      headers: Record<string, string>,
    ): Promise<string> => {
      // A transport per case: it works out an upstream's headers once.
      const own = new LlmHttpTransport();
      try {
        const upstream = upstreamAt(`http://[::1]:${port}/v1`, upstreamHeaders);
        const response = await own.send(upstream, requestOf({ headers }));
        expect(await readBody(response.body as Readable)).toBe('{}');
        return requests.at(-1)!;
      } finally {
        own.onApplicationShutdown();
      }
    };
    const asObject: string[] = [];
    for (const [upstreamHeaders, headers] of cases)
      asObject.push(await send(upstreamHeaders, headers));
    const disable = enableBuiltInHttpTelemetry({ name: 'test' }, new MeterProvider());
    const asList: string[] = [];
    try {
      for (const [upstreamHeaders, headers] of cases)
        asList.push(await send(upstreamHeaders, headers));
    } finally {
      disable();
    }
    expect(asList).toEqual(asObject);
    expect(asList[0]).toContain(`\r\nHost: [::1]:${port}\r\nConnection: keep-alive\r\n\r\n`);
    expect(asList[1]).toContain(
      `\r\nx-team: a\r\nx-client-request-id: req-2\r\nx-llm-attempt: 2\r\nauthorization: Bearer ${KEY}\r\n`,
    );
    expect(asList[2]).toContain('\r\nx-team: b\r\nx-llm-attempt: 2\r\nauthorization: ');
    // `Accept` and `X-Team` where `accept` and `X-Team` came first, with the last spelling and value.
    expect(asList[3]).toContain(
      '\r\ncontent-type: application/json\r\nAccept: text/plain\r\n' +
        'accept-encoding: gzip, compress, deflate, br\r\nuser-agent: nestjs-resilient-llm\r\n' +
        `x-team: c\r\nx-llm-attempt: 3\r\nauthorization: Bearer ${KEY}\r\ncontent-length: `,
    );
    expect(asList[4]).toContain('\r\nx-team: \xe9\r\n');
    expect(asList[5]).toContain('\r\nHost: api.example\r\n');
    expect(asList[5]).not.toContain('\r\nHost: [');
  });

  it('sends the same bytes as a list as with an object when one upstream gets requests whose own headers change', async () => {
    const { port, requests } = await rawUpstream('127.0.0.1');
    // In this order, to one upstream: names that passed at a place, then others at that place.
    const sequence: Record<string, string>[] = [
      { 'x-client-request-id': 'req-1', 'x-llm-attempt': '1' },
      { 'x-client-request-id': 'req-2', 'x-llm-attempt': '2' },
      { 'x-team': 'b', 'x-llm-attempt': '3' },
      { 'x-client-request-id': 'req-4', 'X-LLM-Attempt': '4' },
      { 'x-client-request-id': 'req-5', authorization: 'Bearer mine' },
      { 'x-client-request-id': 'id\r\n-6', 'x-llm-attempt': '6' },
      { 'x-client-request-id': 'req-7\u00e9', 'x-llm-attempt': '7' },
      { 'x-client-request-id': 'req-8', 'x-llm-attempt': '8' },
      { 'x-llm-attempt': '9', 'x-client-request-id': 'req-9' },
      { '0': 'zero', 'x-llm-attempt': '10' },
      { 'x-client-request-id': 'req-11', 'x-llm-attempt': '11', 'x-extra': 'e' },
      { 'x-client-request-id': 'req-12', 'x-llm-attempt': '12' },
    ];
    const sendAll = async (): Promise<string[]> => {
      const own = new LlmHttpTransport();
      const upstream = upstreamAt(`http://127.0.0.1:${port}/v1`, { 'x-team': 'a' });
      const sent: string[] = [];
      try {
        for (const headers of sequence) {
          const response = await own.send(upstream, requestOf({ headers }));
          expect(await readBody(response.body as Readable)).toBe('{}');
          sent.push(requests.at(-1)!);
        }
      } finally {
        own.onApplicationShutdown();
      }
      return sent;
    };
    const asObject = await sendAll();
    const disable = enableBuiltInHttpTelemetry({ name: 'test' }, new MeterProvider());
    let asList: string[];
    try {
      asList = await sendAll();
    } finally {
      disable();
    }
    expect(asList).toEqual(asObject);
    expect(asList[1]).toContain(
      `\r\nx-team: a\r\nx-client-request-id: req-2\r\nx-llm-attempt: 2\r\nauthorization: Bearer ${KEY}\r\n`,
    );
    expect(asList[2]).toContain('\r\nx-team: b\r\nx-llm-attempt: 3\r\n');
    expect(asList[2]).not.toContain('x-team: a');
    expect(asList[3]).toContain('\r\nX-LLM-Attempt: 4\r\n');
    expect(asList[4]).toContain(`\r\nauthorization: Bearer ${KEY}\r\n`);
    expect(asList[4]).not.toContain('Bearer mine');
    expect(asList[5]).toContain('\r\nx-client-request-id: id-6\r\n');
    expect(asList[6]).toContain('\r\nx-client-request-id: req-7\xe9\r\n');
    expect(asList[8]).toContain('\r\nx-llm-attempt: 9\r\nx-client-request-id: req-9\r\n');
    expect(asList[9]).toContain('\r\n0: zero\r\n');
    expect(asList[10]).toContain('\r\nx-llm-attempt: 11\r\nx-extra: e\r\n');
  });

  it('drops the characters a header value cannot carry instead of failing the call', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => res.end('{}'));
    const response = await transport.send(
      upstreamAt(baseUrl, { 'x-team': 'a\u2603b' }),
      requestOf({ headers: { 'x-client-request-id': 'id\r\n-1\u{1F600}é' } }),
    );
    expect(response.status).toBe(200);
    expect(seen[0]!.headers['x-client-request-id']).toBe('id-1é');
    expect(seen[0]!.headers['x-team']).toBe('ab');
    // A Latin-1 header sends the body as bytes apart from the head: still UTF-8, its length right.
    expect(seen[0]!.body).toBe(JSON.stringify(requestOf().body));
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(seen[0]!.body)));
  });

  it('returns every status as it is and follows no redirect', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' }).end('moved');
    });
    const response = await transport.send(upstreamAt(baseUrl), requestOf());
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/elsewhere');
    expect(await readBody(response.body as Readable)).toBe('moved');
    expect(seen).toHaveLength(1);
  });

  it('gives hostile request ids bounded and masked, the same on the first response and on later ones', async () => {
    // [bytes the upstream sends (Latin-1), what the caller gets]
    const cases: [string, string][] = [
      [`req_${'a'.repeat(300)}`, `req_${'a'.repeat(124)}`],
      [`${'a'.repeat(130)}${KEY}`, 'a'.repeat(128)],
      [`${'r'.repeat(100)}${KEY}`, `${'r'.repeat(100)}***`],
      ['req\t1', 'req\t1'],
      ['req-\xe9\xff', 'req-\u00e9\u00ff'],
      [`id-${KEY}`, 'id-***'],
      [`x${KEY.slice(10, 22)}y`, 'x***y'],
      [`req-${KEY.slice(-5)}`, 'req-***'],
      ['sk-proj-AbCdEfGh12', 'sk-***'],
      ['Bearer abc', 'Bearer ***'],
      ['api_key=zz9', 'api_key=***'],
      ['x-api-key:q1', 'x-api-key:***'],
      // Token-shaped: no space, `:` or `=`, nothing to mask.
      ['Bearer.abc_api_key-zz9', 'Bearer.abc_api_key-zz9'],
      ['chatcmpl-9f8e7d6c5b4a', 'chatcmpl-9f8e7d6c5b4a'],
    ];
    let next = 0;
    const { port } = await rawUpstream('127.0.0.1', () => {
      const id = cases[Math.floor(next++ / 2) % cases.length]![0];
      return Buffer.from(
        `HTTP/1.1 200 OK\r\nx-request-id: ${id}\r\ncontent-length: 2\r\n\r\n{}`,
        'latin1',
      );
    });
    const upstream = upstreamAt(`http://127.0.0.1:${port}/v1`);
    const got: [string | undefined, string | undefined][] = [];
    // Each id twice: a new value, then the same one again (the known lines' cached form).
    for (let i = 0; i < cases.length * 2; i++) {
      const response = await transport.send(upstream, requestOf());
      await readBody(response.body as Readable);
      got.push([response.requestId, response.headers['x-request-id']]);
    }
    expect(got).toEqual(
      cases.flatMap(([, want]) => [
        [want, want],
        [want, want],
      ]),
    );
  });

  it('gives lower-case header names, bounded values and the key masked in them', async () => {
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.setHeader('X-Request-Id', `id-${KEY}-${'r'.repeat(300)}`);
      res.setHeader('X-Long', 'l'.repeat(5000));
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(503).end();
    });
    const response = await transport.send(upstreamAt(baseUrl), requestOf());
    expect(response.status).toBe(503);
    expect(response.headers['x-request-id']).toMatch(/^id-\*\*\*-r+$/);
    expect(response.headers['x-request-id']!.length).toBeLessThanOrEqual(128);
    expect(response.headers['x-long']).toBe('l'.repeat(1024));
    expect(response.headers['set-cookie']).toBe('a=1, b=2');
    expect(JSON.stringify(response.headers)).not.toContain(KEY.slice(-12));
  });

  it("reads a response that repeats a recent one's header names as it read the first", async () => {
    // The same names, spelled the same, in the same order: the second record is built from what
    // was worked out for the first. Values that changed are bounded and masked as new ones.
    const answers: [string, string][][] = [
      [
        ['X-Request-Id', 'req-1'],
        ['Content-Type', 'application/json'],
        ['X-Echo', 'constant'],
      ],
      [
        ['X-Request-Id', `id-${KEY}-${'r'.repeat(300)}`],
        ['Content-Type', 'application/json'],
        ['X-Echo', `Bearer ${KEY}`],
      ],
      [
        ['X-Request-Id', 'req-3'],
        ['Content-Type', 'application/json'],
        ['X-Echo', 'constant'],
      ],
      // Other names (one spelled otherwise): read afresh, then known in turn.
      [
        ['x-request-id', 'req-4'],
        ['Content-Type', 'application/json'],
        ['X-Other', 'o'],
      ],
      [
        ['x-request-id', 'req-5'],
        ['Content-Type', 'application/json'],
        ['X-Other', 'o'],
      ],
      // The first names again (a plain answer after a stream's head, say): still known.
      [
        ['X-Request-Id', 'req-6'],
        ['Content-Type', 'application/json'],
        ['X-Echo', `key ${KEY}`],
      ],
    ];
    let answered = 0;
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, answers[answered++]!.flat()).end('{}');
    });
    // A fresh transport per answer reads every record the general way: the expected ones.
    const upstream = upstreamAt(baseUrl);
    const records: Record<string, string>[] = [];
    for (let i = 0; i < answers.length; i++) {
      const response = await transport.send(upstream, requestOf());
      await readBody(response.body as Readable);
      records.push(response.headers);
    }
    answered = 0;
    const expected: Record<string, string>[] = [];
    for (let i = 0; i < answers.length; i++) {
      const fresh = new LlmHttpTransport();
      const response = await fresh.send(upstream, requestOf());
      await readBody(response.body as Readable);
      expected.push(response.headers);
      fresh.onApplicationShutdown();
    }
    const shown = (record: Record<string, string>) =>
      Object.entries(record).filter(([name]) => !/^(date|connection|keep-alive)$/.test(name));
    expect(records.map(shown)).toEqual(expected.map(shown));
    expect(records[1]!['x-request-id']).toMatch(/^id-\*\*\*-r+$/);
    expect(records[1]!['x-request-id']!.length).toBeLessThanOrEqual(128);
    expect(records[1]!['x-echo']).toBe('Bearer ***');
    expect(records[2]!['x-echo']).toBe('constant');
    expect(records[5]!['x-echo']).toBe('key ***');
    expect(Object.keys(records[4]!).slice(0, 3)).toEqual([
      'x-request-id',
      'content-type',
      'x-other',
    ]);
    expect(JSON.stringify(records)).not.toContain(KEY.slice(-12));
  });

  it('builds a record from its own header lines when it is read later, after other responses', async () => {
    // A plain answer's record is built when first read (after the caller's answer): other
    // responses with the same names, read in between, must not change it.
    const values = [
      ['req-1', '99', 'constant'],
      [`id-${KEY}-${'r'.repeat(300)}`, '98', `Bearer ${KEY}`],
      ['req-3', '97', 'constant'],
      ['req-4', '96', 'other'],
    ];
    let answered = 0;
    const { baseUrl } = await upstreamServer((_req, res) => {
      const [id, remaining, echo] = values[answered++]!;
      res
        .writeHead(200, [
          'X-Request-Id',
          id!,
          'x-ratelimit-remaining-requests',
          remaining!,
          'X-Echo',
          echo!,
        ])
        .end('{}');
    });
    const upstream = upstreamAt(baseUrl);
    const responses: UpstreamResponse[] = [];
    for (let i = 0; i < values.length; i++) {
      const response = await transport.send(upstream, requestOf());
      await readBody(response.body as Readable);
      responses.push(response);
    }
    // Read last first, the first once more at the end.
    const records = [3, 1, 2, 0].map((i) => [i, responses[i]!.headers] as const);
    expect(records.map(([i, record]) => [i, record['x-ratelimit-remaining-requests']])).toEqual([
      [3, '96'],
      [1, '98'],
      [2, '97'],
      [0, '99'],
    ]);
    const second = responses[1]!.headers;
    expect(second['x-request-id']).toMatch(/^id-\*\*\*-r+$/);
    expect(second['x-request-id']!.length).toBeLessThanOrEqual(128);
    expect(second['x-echo']).toBe('Bearer ***');
    expect(responses[3]!.headers['x-echo']).toBe('other');
    expect(responses[0]!.headers['x-echo']).toBe('constant');
    // The request id, read at once, is the record's.
    expect(responses.map((r) => r.requestId)).toEqual(
      responses.map((r) => r.headers['x-request-id']),
    );
    expect(responses[0]!.headers).toBe(responses[0]!.headers);
    expect(Object.keys(responses[2]!.headers).slice(0, 3)).toEqual([
      'x-request-id',
      'x-ratelimit-remaining-requests',
      'x-echo',
    ]);
  });

  it("gives the headers in the order they came, repeated ones joined or dropped by Node's rules", async () => {
    const lines = [
      ['X-Request-Id', 'req-9'],
      ['Content-Type', 'application/json'],
      ['x-ratelimit-remaining-requests', '99'],
    ];
    const repeated = [
      ...lines,
      ['Cache-Control', 'no-cache'],
      ['content-type', 'text/plain'],
      ['cache-control', 'no-store'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ];
    let answered = 0;
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, (answered++ === 0 ? lines : repeated).flat()).end('{}');
    });
    for (const sent of [lines, repeated]) {
      const response = await transport.send(upstreamAt(baseUrl), requestOf());
      const names = Object.keys(response.headers).filter(
        (name) => !/^(date|connection|keep-alive|content-length|transfer-encoding)$/.test(name),
      );
      if (sent === lines) {
        expect(names).toEqual(['x-request-id', 'content-type', 'x-ratelimit-remaining-requests']);
        expect(response.headers['x-request-id']).toBe('req-9');
      } else {
        expect(names).toEqual([
          'x-request-id',
          'content-type',
          'x-ratelimit-remaining-requests',
          'cache-control',
          'cookie',
        ]);
        // Node's rules: content-type keeps its first value, others are joined.
        expect(response.headers['content-type']).toBe('application/json');
        expect(response.headers['cache-control']).toBe('no-cache, no-store');
        expect(response.headers['cookie']).toBe('a=1; b=2');
      }
      await readBody(response.body as Readable);
    }
  });

  it('decodes a gzip body and drops its content-encoding', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync('{"ok":true}'));
    });
    // The second answer repeats the first one's header lines: read from what the first left.
    for (let i = 0; i < 2; i++) {
      const response = await transport.send(upstreamAt(baseUrl), requestOf());
      expect(await readBody(response.body as Readable)).toBe('{"ok":true}');
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.headers['content-type']).toBe('application/json');
    }
    expect(seen[0]!.headers['accept-encoding']).toBe('gzip, compress, deflate, br');
  });

  it.each([
    ['deflate', deflateSync],
    ['deflate', deflateRawSync], // raw, without the zlib header some servers leave out
    ['br', brotliCompressSync],
  ] as const)('decodes a %s body (%p)', async (encoding, compress) => {
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, { 'content-encoding': encoding }).end(compress('{"ok":1}'));
    });
    const response = await transport.send(upstreamAt(baseUrl), requestOf());
    expect(await readBody(response.body as Readable)).toBe('{"ok":1}');
    expect(response.headers['content-encoding']).toBeUndefined();
  });

  it('passes a body of an unknown encoding through, with its content-encoding', async () => {
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'x-custom' }).end('raw');
    });
    const response = await transport.send(upstreamAt(baseUrl), requestOf());
    expect(await readBody(response.body as Readable)).toBe('raw');
    expect(response.headers['content-encoding']).toBe('x-custom');
  });

  it('a body that cannot be encoded is a local internal error and nothing is sent', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => res.end('{}'));
    const error: unknown = await transport
      .send(upstreamAt(baseUrl), requestOf({ body: { n: 1n } }))
      .catch((e: unknown) => e);
    expect(isLlmError(error) && error.kind).toBe('internal');
    expect(isLlmError(error) && error.retryable).toBe(false);
    expect(seen).toHaveLength(0);
  });

  it('aborting before the answer rejects with an abort error, classified as before (network)', async () => {
    const { seen, baseUrl } = await upstreamServer(() => undefined); // never answers
    const controller = new AbortController();
    const sent = transport.send(upstreamAt(baseUrl), requestOf({ signal: controller.signal }));
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort('attempt_timeout');
    const error: unknown = await sent.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const classified = classifyTransportError(error, { upstream: 'up', model: 'm' });
    expect(classified).toMatchObject({ kind: 'network', retryable: true });
    // Already aborted: nothing is sent.
    await expect(
      transport.send(upstreamAt(baseUrl), requestOf({ signal: controller.signal })),
    ).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(seen).toHaveLength(1);
  });

  it('aborting while the body is read ends the read with the abort error, nothing uncaught', async () => {
    const { baseUrl } = await upstreamServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      res.end('data: 2\n\n'); // complete, but not yet read by the caller
    });
    const controller = new AbortController();
    const response = await transport.send(
      upstreamAt(baseUrl),
      requestOf({ signal: controller.signal, responseType: 'stream' }),
    );
    const chunks = (response.body as Readable)[Symbol.asyncIterator]();
    await chunks.next();
    controller.abort('consumer_done');
    await expect(chunks.next()).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('a refused connection is a network error', async () => {
    const { server, baseUrl } = await startUpstream(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const error: unknown = await transport
      .send(upstreamAt(baseUrl), requestOf())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(classifyTransportError(error, { upstream: 'up', model: 'm' }).kind).toBe('network');
  });

  it('with the built-in telemetry, a body taken at once ends its timing then, not at its later end event', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const disable = enableBuiltInHttpTelemetry({ name: 'test' }, provider);
    try {
      const { baseUrl } = await upstreamServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      const sent = performance.now();
      const response = await transport.send(upstreamAt(baseUrl), requestOf());
      const body = response.body as IncomingMessage;
      for (let turns = 0; !body.complete && turns < 1_000; turns++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const ended = new Promise((resolve) => body.once('end', resolve));
      expect(receivedBody(body)).toBe('{}');
      const taken = performance.now() - sent;
      // The caller's work on the body before its `end` event can come: 50 ms of it.
      const busyUntil = performance.now() + 50;
      while (performance.now() < busyUntil);
      await ended;
      const points = await clientDurations(reader);
      expect(points.map((p) => p.value.count)).toEqual([1]);
      expect(points[0]!.value.sum! * 1000).toBeLessThanOrEqual(taken + 5);
    } finally {
      disable();
      await provider.shutdown();
    }
  });

  it('with the built-in telemetry, records each request once: body read, stopped early, failed', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const disable = enableBuiltInHttpTelemetry({ name: 'test' }, provider);
    try {
      const { baseUrl } = await upstreamServer((req, res) => {
        if (req.headers['x-client-request-id'] === 'early') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: 1\n\n'); // and never ends
          return;
        }
        res.writeHead(req.headers['x-client-request-id'] === 'bad' ? 503 : 200);
        res.end('{}');
      });
      const whole = await transport.send(upstreamAt(baseUrl), requestOf());
      expect(await readBody(whole.body as Readable)).toBe('{}');
      const bad = await transport.send(
        upstreamAt(baseUrl),
        requestOf({ headers: { 'x-client-request-id': 'bad' } }),
      );
      await readBody(bad.body as Readable);
      // Its reader stops after the first chunk: the request's close ends the timing.
      const controller = new AbortController();
      const early = await transport.send(
        upstreamAt(baseUrl),
        requestOf({
          headers: { 'x-client-request-id': 'early' },
          signal: controller.signal,
          responseType: 'stream',
        }),
      );
      const body = early.body as Readable;
      await body[Symbol.asyncIterator]().next();
      const closed = new Promise((resolve) => body.once('close', resolve));
      controller.abort('consumer_done');
      await closed;
      const { server: refused, baseUrl: refusedUrl } = await startUpstream(() => undefined);
      await new Promise((resolve) => refused.close(resolve));
      // A transport of its own: targets are kept per upstream name.
      const other = new LlmHttpTransport();
      await expect(other.send(upstreamAt(refusedUrl), requestOf())).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
      other.onApplicationShutdown();
      const port = Number(new URL(baseUrl).port);
      const points = await clientDurations(reader);
      expect(points.map((p) => [p.attributes, p.value.count])).toEqual([
        [
          {
            ...serverOf(port),
            'network.protocol.version': '1.1',
            'http.response.status_code': 200,
          },
          1,
        ],
        [
          {
            ...serverOf(port),
            'network.protocol.version': '1.1',
            'http.response.status_code': 503,
            'error.type': '503',
          },
          1,
        ],
        // The stopped stream: aborted by its reader, after a 200.
        [
          {
            ...serverOf(port),
            'network.protocol.version': '1.1',
            'http.response.status_code': 200,
            'error.type': 'AbortError',
          },
          1,
        ],
        [{ ...serverOf(Number(new URL(refusedUrl).port)), 'error.type': 'Error' }, 1],
      ]);
    } finally {
      disable();
      await provider.shutdown();
    }
  });

  (agentsTakeProxyEnv ? it : it.skip)('sends through the proxy HTTP_PROXY names', async () => {
    const { seen, baseUrl } = await upstreamServer((_req, res) => res.end('{"via":"proxy"}'));
    const proxied: string[] = [];
    const proxiedHeaders: IncomingMessage['headers'][] = [];
    const proxy = createServer((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      proxiedHeaders.push(req.headers);
      const target = new URL(req.url ?? '');
      const forward = httpRequest(
        { host: target.hostname, port: target.port, path: target.pathname, method: req.method },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => proxy.close(resolve)));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    delete process.env.NO_PROXY;
    try {
      const response = await transport.send(upstreamAt(baseUrl), requestOf());
      expect(await readBody(response.body as Readable)).toBe('{"via":"proxy"}');
      // The gateway's mode too: the headers stay an object, which the proxy agent adds to.
      const disable = enableBuiltInHttpTelemetry({ name: 'test' }, new MeterProvider());
      try {
        const again = await transport.send(upstreamAt(baseUrl), requestOf());
        expect(await readBody(again.body as Readable)).toBe('{"via":"proxy"}');
      } finally {
        disable();
      }
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(proxied).toEqual([
      `POST ${baseUrl}/chat/completions`,
      `POST ${baseUrl}/chat/completions`,
    ]);
    expect(seen).toHaveLength(2);
    expect(proxiedHeaders[1]).toMatchObject({
      'proxy-connection': 'keep-alive',
      authorization: `Bearer ${KEY}`,
    });
  });
});
