import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { startLoopbackUpstream } from './support/loopback-upstream';

const MESSAGES = [{ role: 'user', content: 'Hello' }];
const KEY = 'sk-forward-test-0123456789';

/**
 * The provider's rate-limit headers reach the gateway's caller as the provider sent them, as they
 * would calling it directly: on answers, on streams and on a relayed 429. Nothing else of the
 * upstream's headers does.
 */
describe('gateway: the upstream rate-limit headers are forwarded', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;

  afterEach(async () => {
    await gateway?.close();
    await sim?.close();
  });

  const post = (body: unknown) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it("forwards the simulator's x-ratelimit-* and openai-processing-ms on answers and streams", async () => {
    sim = await UpstreamSimulator.start({ apiKey: KEY, rpm: 100, tpm: 100_000 });
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_API_KEY: KEY });
    // Twice: the first answer's headers are read one way, the repeats of a known layout another.
    for (let i = 0; i < 3; i++) {
      const res = await post({ messages: MESSAGES });
      expect(res.status).toBe(200);
      await res.text();
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('100');
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe(String(99 - i));
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(res.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^[\d.]+m?s$|^\dm/);
      expect(res.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    }
    const stream = await post({ messages: MESSAGES, stream: true });
    expect(stream.status).toBe(200);
    await stream.text();
    expect(stream.headers.get('x-ratelimit-remaining-requests')).toBe('96');
  });

  it("forwards a relayed 429's remaining budget and reset", async () => {
    sim = await UpstreamSimulator.start({ apiKey: KEY, rpm: 1 });
    // One attempt: the 429 is relayed as it came.
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      LLM_MAX_RETRIES: '0',
    });
    await (await post({ messages: MESSAGES })).text();
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(429);
    await res.text();
    expect(res.headers.get('x-llm-error-kind')).toBe('rate_limited');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/s$/);
  });

  it('forwards them on a 429 whose wait the call does not take (past the cap, past the deadline)', async () => {
    let hint: Record<string, string> = { 'retry-after': '120' };
    const upstream = await startLoopbackUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(429, {
          'content-type': 'application/json',
          ...hint,
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '2m0s',
        });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests' } }));
      });
    });
    try {
      gateway = await startGatewayApp({
        LLM_BASE_URL: upstream.baseUrl,
        LLM_API_KEY: KEY,
        LLM_TOTAL_TIMEOUT_MS: '600',
      });
      // 350 ms: within the longest hint a call waits for, but past what the 600 ms deadline
      // leaves after a first wait: it ends on the next 429. 120 s: past that cap, so it ends at
      // once. In this order, since the first holds the model for 350 ms and the second waits
      // for it; a 120 s hold would answer the next request here, unsent.
      const hints: Record<string, string>[] = [
        { 'retry-after-ms': '350' },
        { 'retry-after': '120' },
      ];
      for (const given of hints) {
        hint = given;
        const res = await post({ messages: MESSAGES });
        expect(res.status).toBe(429);
        await res.text();
        expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
        expect(res.headers.get('x-ratelimit-reset-requests')).toBe('2m0s');
      }
    } finally {
      await upstream.close();
    }
  });

  it('forwards only the named headers, only short printable values, never the key', async () => {
    const upstream = await startLoopbackUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-ratelimit-remaining-requests': '41',
          // The key echoed: masked where it is kept, so what is forwarded is the mask.
          'x-ratelimit-limit-tokens': KEY,
          'x-ratelimit-reset-tokens': 'x'.repeat(65),
          'x-ratelimit-limit-requests': 'Ünïcode',
          // The key in pieces too short to be recognised, and free text: not a count or duration.
          'x-ratelimit-remaining-tokens': `${KEY.slice(0, 6)} ${KEY.slice(6, 12)}`,
          'openai-processing-ms': 'see https://status.example',
          // Digits first, but no count, duration or time a client could read.
          'x-ratelimit-reset-requests': '1e400s',
          'x-other-upstream': 'not forwarded',
          'set-cookie': 'session=abc',
        });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [
              { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' },
            ],
          }),
        );
      });
    });
    try {
      gateway = await startGatewayApp({
        LLM_BASE_URL: upstream.baseUrl,
        LLM_API_KEY: KEY,
      });
      for (let i = 0; i < 2; i++) {
        const res = await post({ messages: MESSAGES });
        expect(res.status).toBe(200);
        await res.text();
        expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('41');
        expect(res.headers.get('x-ratelimit-reset-tokens')).toBeNull();
        expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
        expect(res.headers.get('x-ratelimit-remaining-tokens')).toBeNull();
        expect(res.headers.get('openai-processing-ms')).toBeNull();
        expect(res.headers.get('x-ratelimit-reset-requests')).toBeNull();
        // The masked key is not forwarded either: '***' is no count.
        expect(res.headers.get('x-ratelimit-limit-tokens')).toBeNull();
        expect(res.headers.get('x-other-upstream')).toBeNull();
        expect(res.headers.get('set-cookie')).toBeNull();
        const all = [...res.headers.entries()].map(([n, v]) => `${n}: ${v}`).join('\n');
        expect(all).not.toContain(KEY);
        expect(all).not.toContain(KEY.slice(3, 20));
      }
    } finally {
      await upstream.close();
    }
  });
});
