import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { chunkEvent } from './support/sse-chunk-event';
import { eventually } from './support/eventually';

/** Characters of content per event: the stream is large in few events. */
const PIECE = 'x'.repeat(4096);

/**
 * An upstream that streams content events for as long as it is read, the way a provider does:
 * it writes while its socket takes the bytes and waits for `drain` when it does not, so how much
 * it wrote is how much the gateway read (plus what the kernel's socket buffers hold). It stops
 * when told how many events to send in all, then finishes the stream properly.
 */
interface EndlessUpstream {
  baseUrl: string;
  /** Content events written so far. */
  readonly written: number;
  /** Connections the gateway holds open to it now. */
  readonly connections: number;
  /** True while the last write was refused and the upstream waits for `drain`. */
  readonly waiting: boolean;
  /** Ends the stream once `total` content events were written. */
  finishAt(total: number): void;
  close(): Promise<void>;
}

async function startEndlessUpstream(): Promise<EndlessUpstream> {
  const state = { written: 0, waiting: false, total: Infinity };
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => void stream(res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const event = (delta: object, finish: string | null = null): string =>
    chunkEvent('chatcmpl-bp', delta, finish);
  async function stream(res: http.ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(event({ role: 'assistant', content: '' }));
    while (state.written < state.total && !res.destroyed) {
      state.written++;
      if (!res.write(event({ content: PIECE }))) {
        state.waiting = true;
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go).off('close', go);
            resolve();
          };
          res.on('drain', go).on('close', go);
        });
        state.waiting = false;
      }
    }
    if (res.destroyed) return;
    res.write(event({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get written() {
      return state.written;
    },
    get connections() {
      return sockets.size;
    },
    get waiting() {
      return state.waiting;
    },
    finishAt: (total) => {
      state.total = total;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A JSON POST of `body` to `url`, its answer handed to `onResponse`; ended by the caller. */
function postJson(
  url: URL,
  body: string,
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  return http.request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    },
    onResponse,
  );
}

/**
 * Events past which the gateway is taken to read without end: about 160 MB, several times what
 * loopback's socket buffers hold on either side (Linux autotunes them up to tcp_rmem's 32 MiB).
 */
const NEVER_STALLS = 40_000;

/**
 * Resolves once the upstream has waited for `drain` with no new event for `quietMs`; throws when
 * the upstream wrote {@link NEVER_STALLS} events without being held back.
 */
async function stalled(upstream: EndlessUpstream, quietMs = 400): Promise<void> {
  let seen = -1;
  let since = Date.now();
  for (;;) {
    if (upstream.written >= NEVER_STALLS) {
      upstream.finishAt(upstream.written);
      throw new Error(
        `The gateway read ${upstream.written} events without holding the upstream back`,
      );
    }
    if (upstream.written !== seen || !upstream.waiting) {
      seen = upstream.written;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    await sleep(50);
  }
}

describe('gateway: a stream to a client that does not read', () => {
  let upstream: EndlessUpstream;
  let gateway: GatewayTestApp;
  /** The gateway's side of each exchange: its Node response, as its writer sees it. */
  const responses: http.ServerResponse[] = [];
  let client: http.ClientRequest | undefined;

  beforeEach(async () => {
    upstream = await startEndlessUpstream();
    gateway = await startGatewayApp({ LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: 'sk-test' });
    const server = gateway.app.getHttpServer() as http.Server;
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      responses.push(res);
    });
  });
  afterEach(async () => {
    responses.length = 0;
    client?.destroy();
    // The upstream first: a stream it still holds open would hold up the gateway's shutdown.
    await upstream.close();
    await gateway.close();
  });

  it('stops reading the upstream while the client does not read, holding at most one event beyond its buffer, and loses nothing', async () => {
    /** The client reads until it has this many characters, then pauses. */
    let pauseAt = 1;
    let receivedChars = 0;
    const url = new URL(`${gateway.url}/v1/chat/completions`);
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Write a lot.' }],
    });
    const received: string[] = [];
    let resume: () => void = () => undefined;
    const done = new Promise<number>((resolve, reject) => {
      const req = (client = postJson(url, body, (res) => {
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          received.push(text);
          receivedChars += text.length;
          // The client stops reading: its socket buffer fills, then the gateway's, then the
          // gateway must stop reading the upstream.
          if (receivedChars >= pauseAt) res.pause();
        });
        resume = () => res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      }));
      req.once('error', reject);
      req.end(body);
    });

    await stalled(upstream);
    const [res] = responses;
    expect(res).toBeDefined();
    const eventBytes = Buffer.byteLength(`data: ${JSON.stringify({ content: PIECE })}\n\n`) + 512;
    // What the gateway holds for this client past the kernel's socket buffers: at most its high
    // water mark plus the event whose write was refused. A gateway that kept reading into memory
    // would never let the upstream stall, or would hold everything it read here.
    expect(res!.writableLength).toBeLessThanOrEqual(res!.writableHighWaterMark + eventBytes);
    expect(res!.writableNeedDrain).toBe(true);
    // Still stalled a moment later: nothing is read from the upstream while the client is paused.
    const firstStall = upstream.written;
    await sleep(300);
    expect(upstream.written).toBe(firstStall);
    expect(upstream.waiting).toBe(true);
    const listeners = () => ['drain', 'close', 'finish', 'error'].map((e) => res!.listenerCount(e));
    const listenersAtFirstStall = listeners();

    // The client reads a few MB (the gateway waits for `drain` many times meanwhile), then pauses
    // again: the same bound holds, and those waits left no listener behind.
    pauseAt = receivedChars + 4 * 1024 * 1024;
    resume();
    while (receivedChars < pauseAt) await sleep(20);
    await stalled(upstream);
    expect(upstream.written).toBeGreaterThan(firstStall + 500);
    expect(res!.writableLength).toBeLessThanOrEqual(res!.writableHighWaterMark + eventBytes);
    expect(listeners()).toEqual(listenersAtFirstStall);
    const writtenAtStall = upstream.written;

    upstream.finishAt(writtenAtStall + 20);
    pauseAt = Infinity;
    resume();
    expect(await done).toBe(200);
    const text = received.join('');
    const contents = text.match(/"content":"x+"/g) ?? [];
    expect(contents).toHaveLength(writtenAtStall + 20);
    expect(contents.every((c) => c === `"content":"${PIECE}"`)).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('cuts off a client that takes nothing for GATEWAY_SEND_TIMEOUT_MS, and the upstream request with it', async () => {
    const strict = await startGatewayApp({
      LLM_BASE_URL: upstream.baseUrl,
      LLM_API_KEY: 'sk-test',
      GATEWAY_SEND_TIMEOUT_MS: '500',
    });
    const served: http.ServerResponse[] = [];
    (strict.app.getHttpServer() as http.Server).on('request', (_req, res: http.ServerResponse) =>
      served.push(res),
    );
    try {
      const url = new URL(`${strict.url}/v1/chat/completions`);
      const body = JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'Go.' }] });
      // The client reads the head and stops reading for good.
      const req = (client = postJson(url, body, (res) => res.pause()));
      req.once('error', () => undefined);
      req.end(body);
      // Cut off once the buffers on both sides are full and 500 ms pass with nothing taken.
      // Before: held as long as the client liked (the stream below it until its deadline).
      await eventually(() => served[0]?.destroyed === true, {
        timeoutMs: 8000,
        what: 'the gateway closing the connection',
      });
      await eventually(() => upstream.connections === 0, { what: 'the upstream request closed' });
    } finally {
      await strict.close();
    }
  });
});
