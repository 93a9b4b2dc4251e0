import type * as http from 'node:http';
import type { Socket } from 'node:net';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { type LoopbackUpstream, startLoopbackUpstream } from './support/loopback-upstream';
import { postChat, sseData } from './support/post-chat';
import { chunkEvent } from './support/sse-chunk-event';

const PIECES = ['Hello', ' there', ', how', ' are', ' you', ' today?'];

const event = (delta: object, finish: string | null = null): string =>
  chunkEvent('chatcmpl-first', delta, finish);

/** An upstream that sends its whole answer in one write: the gateway reads it all at once. */
function startBunchedUpstream(): Promise<LoopbackUpstream> {
  return startLoopbackUpstream((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        event({ role: 'assistant', content: '' }) +
          PIECES.map((piece) => event({ content: piece })).join('') +
          event({}, 'stop') +
          'data: [DONE]\n\n',
      );
    });
  });
}

/** What the gateway hands its client sockets, one entry per write that reaches the socket. */
function recordSocketWrites(server: http.Server): string[][] {
  const writes: string[][] = [];
  server.on('connection', (socket: Socket) => {
    const seen: string[] = [];
    writes.push(seen);
    const text = (data: unknown): string =>
      Buffer.isBuffer(data) ? data.toString('latin1') : String(data);
    // Observed, not replaced: each call still goes to the socket's own write.
    const target = socket as unknown as {
      _writeGeneric: (writev: boolean, data: unknown, ...rest: unknown[]) => unknown;
    };
    const writeGeneric = target._writeGeneric.bind(socket);
    target._writeGeneric = (writev, data, ...rest) => {
      seen.push(
        writev
          ? (data as unknown[])
              .map((entry) =>
                text(
                  typeof entry === 'object' && entry !== null && 'chunk' in entry
                    ? entry.chunk
                    : entry,
                ),
              )
              .join('')
          : text(data),
      );
      return writeGeneric(writev, data, ...rest);
    };
  });
  return writes;
}

describe('Gateway streams: the first content leaves at once (e2e)', () => {
  let upstream: LoopbackUpstream;
  let gateway: GatewayTestApp;
  let writes: string[][];

  beforeEach(async () => {
    upstream = await startBunchedUpstream();
    gateway = await startGatewayApp({ LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: 'sk-test' });
    writes = recordSocketWrites(gateway.app.getHttpServer() as http.Server);
  });
  afterEach(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('writes the headers, the role chunk and the first content in one write, before the rest of a bunched read, and the client still gets every event', async () => {
    const { status, text } = await postChat(`${gateway.url}/v1/chat/completions`, true);

    expect(status).toBe(200);
    // Every event, in order, then [DONE]: nothing lost or reordered by the early flush.
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map(
      (json) =>
        JSON.parse(json) as {
          choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
        },
    );
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe(
      PIECES.join(''),
    );
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');

    const socketWrites = writes.flat();
    const first = socketWrites[0]!;
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('content-type: text/event-stream');
    expect(first).toContain('"role":"assistant"');
    expect(first).toContain(`"content":"${PIECES[0]}"`);
    // The rest of the read went out in later writes, not before the first content.
    for (const piece of PIECES.slice(1)) expect(first).not.toContain(`"content":"${piece}"`);
    expect(socketWrites.slice(1).join('')).toContain(`"content":"${PIECES.at(-1)}"`);
  });
});

/** Writes each piece in a write of its own, a few ms apart: the gateway reads them one by one. */
function startPacedUpstream(pieces: string[]): Promise<LoopbackUpstream> {
  return startLoopbackUpstream((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req-paced' });
      res.flushHeaders();
      let next = 0;
      const write = (): void => {
        if (res.destroyed) return;
        if (next === pieces.length) return void res.end();
        res.write(pieces[next++]);
        setTimeout(write, 5);
      };
      write();
    });
  });
}

/** One streamed call through the gateway: status, headers and the events' data. */
async function streamThrough(
  gateway: GatewayTestApp,
): Promise<{ status?: number; headers: http.IncomingHttpHeaders; data: string[] }> {
  const { status, headers, text } = await postChat(`${gateway.url}/v1/chat/completions`, true);
  return { status, headers, data: sseData(text) };
}

describe('Gateway streams: what comes before the first content (e2e)', () => {
  let upstream: LoopbackUpstream | undefined;
  let gateway: GatewayTestApp | undefined;

  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
    gateway = upstream = undefined;
  });

  async function start(pieces: string[]): Promise<string[][]> {
    upstream = await startPacedUpstream(pieces);
    gateway = await startGatewayApp({ LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: 'sk-test' });
    return recordSocketWrites(gateway.app.getHttpServer() as http.Server);
  }

  it('relays keep-alives, a role chunk and empty deltas read one by one as one write with the first content, headers and all', async () => {
    const writes = await start([
      ': keep-alive\n\n',
      event({ role: 'assistant', content: '' }),
      ': keep-alive\n\n',
      event({ content: '' }),
      event({ content: 'Hi' }) + event({ content: ' you' }),
      event({}, 'stop') + 'data: [DONE]\n\n',
    ]);
    const { status, headers, data } = await streamThrough(gateway!);

    expect(status).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers['x-accel-buffering']).toBe('no');
    expect(headers['x-llm-attempts']).toBe('1');
    expect(headers['x-llm-model']).toBe('gpt-4o-mini');
    expect(headers['x-llm-upstream-request-id']).toBe('req-paced');
    // Keep-alives are not relayed; every chunk is, in order, then [DONE].
    expect(data).toEqual([
      event({ role: 'assistant', content: '' }).slice('data: '.length, -2),
      event({ content: '' }).slice('data: '.length, -2),
      event({ content: 'Hi' }).slice('data: '.length, -2),
      event({ content: ' you' }).slice('data: '.length, -2),
      event({}, 'stop').slice('data: '.length, -2),
      '[DONE]',
    ]);
    const first = writes.flat()[0]!;
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('"role":"assistant"');
    expect(first).toContain('"delta":{"content":""}');
    expect(first).toContain('"content":"Hi"');
    expect(first).not.toContain('"content":" you"');
  });

  it('relays a stream that ends before any content: its chunks, then [DONE]', async () => {
    await start([event({ role: 'assistant', content: '' }), 'data: [DONE]\n\n']);
    const { status, data } = await streamThrough(gateway!);

    expect(status).toBe(200);
    expect(data).toEqual([
      event({ role: 'assistant', content: '' }).slice('data: '.length, -2),
      '[DONE]',
    ]);
  });
});

describe('Gateway streams: reasoning and audio are content (e2e)', () => {
  let upstream: LoopbackUpstream | undefined;
  let gateway: GatewayTestApp | undefined;
  let requests = 0;

  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
    gateway = upstream = undefined;
  });

  /**
   * An upstream that sends `opening` at once, then nothing for 400 ms (past the gateway's 150 ms
   * first-chunk timeout), then text and the end.
   */
  async function start(opening: object[]): Promise<void> {
    requests = 0;
    upstream = await startLoopbackUpstream((req, res) => {
      requests++;
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(opening.map((delta) => event(delta)).join(''));
        setTimeout(() => {
          if (res.destroyed) return;
          res.end(event({ content: 'Hi' }) + event({}, 'stop') + 'data: [DONE]\n\n');
        }, 400);
      });
    });
    gateway = await startGatewayApp({
      LLM_BASE_URL: upstream.baseUrl,
      LLM_API_KEY: 'sk-test',
      LLM_FIRST_CHUNK_TIMEOUT_MS: '150',
    });
  }

  it.each([
    [
      'reasoning (OpenRouter, vLLM, Ollama)',
      [{ role: 'assistant' }, { reasoning: 'Let me think' }],
    ],
    [
      'audio output',
      [
        { role: 'assistant', audio: { id: 'audio_1', transcript: '' } },
        { audio: { data: 'AAAA' } },
      ],
    ],
  ])(
    'relays a stream whose first deltas are %s without a first-chunk timeout, in one attempt',
    async (_name, opening) => {
      await start(opening);
      const { status, headers, data } = await streamThrough(gateway!);

      expect(status).toBe(200);
      expect(requests).toBe(1);
      expect(headers['x-llm-attempts']).toBe('1');
      expect(data).toEqual([
        ...opening.map((delta) => event(delta).slice('data: '.length, -2)),
        event({ content: 'Hi' }).slice('data: '.length, -2),
        event({}, 'stop').slice('data: '.length, -2),
        '[DONE]',
      ]);
    },
  );

  it('still times out a stream whose opening is only a role and an empty audio id', async () => {
    await start([{ role: 'assistant', audio: { id: 'audio_1', transcript: '' } }]);
    const { status, text } = await postChat(`${gateway!.url}/v1/chat/completions`, true);

    // The attempt timed out before content (retried, then failed): the client gets the error.
    expect(requests).toBeGreaterThan(1);
    expect(status).toBe(504);
    expect(text).toContain('first-chunk timeout');
  });
});
