import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface HealthBody {
  status: string;
  details: {
    llm: { status: string; openBreakers: number; breakers: Array<Record<string, unknown>> };
  };
}

describe('gateway: upstream failures, breaker and health', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;
  let url: string;

  /** Boots the gateway against `sim` with short delays; `env` overrides the test defaults. */
  async function boot(env: Record<string, string> = {}): Promise<void> {
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      LLM_BREAKER_HALF_OPEN_MS: '200',
      ...env,
    });
    url = gateway.url;
  }

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await sim.close();
  });

  const post = (body: unknown, init: RequestInit = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...init,
    });
  const getJson = async <T>(path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  it('429 with Retry-After once the retries are spent on rate limits', async () => {
    await boot();
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '5' }, repeat: 4 }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('retry-after-ms')).toBe('5');
    expect(res.headers.get('x-llm-attempts')).toBe('4');
    const { error } = (await res.json()) as ErrorBody;
    // The provider's code, as a client of the provider checks it; the kind in its header.
    expect(error).toMatchObject({
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      param: null,
    });
    expect(res.headers.get('x-llm-error-kind')).toBe('rate_limited');
  });

  it('429 at once when the server hint waits past the deadline', async () => {
    await boot({ LLM_TOTAL_TIMEOUT_MS: '1000', LLM_ATTEMPT_TIMEOUT_MS: '1000' });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after': '5' } }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    // The provider's code, as for any 429 it sent; the kind says why it was not waited for.
    expect(((await res.json()) as ErrorBody).error.code).toBe('rate_limit_exceeded');
    expect(res.headers.get('x-llm-error-kind')).toBe('deadline_exceeded');
    expect(sim.requests).toHaveLength(1);
  });

  it("a provider's 400 with a null code: the kind as the code, the provider's param", async () => {
    await boot();
    const body = { message: 'Bad thing', type: 'invalid_request_error', param: 'foo', code: null };
    sim.script([{ type: 'error', status: 400, body: JSON.stringify({ error: body }) }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      param: 'foo',
      code: 'bad_request',
    });
  });

  it('401 from the upstream: not retried, blamed on the gateway key', async () => {
    await boot();
    sim.script([{ type: 'error', status: 401 }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(401);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ type: 'authentication_error', code: 'auth' });
    expect(error.message).toMatch(/gateway's own credentials/);
    expect(sim.requests).toHaveLength(1);
  });

  it.each([
    [503, 503, 'overloaded'],
    [500, 502, 'server_error'],
  ])('upstream %i on every attempt: 4 attempts, then %i', async (upstream, expected, code) => {
    await boot();
    sim.script([{ type: 'error', status: upstream, repeat: 4 }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(expected);
    expect(res.headers.get('x-llm-attempts')).toBe('4');
    // The gateway already retried: a client SDK must not multiply the attempts.
    expect(res.headers.get('x-should-retry')).toBe('false');
    const { error } = (await res.json()) as ErrorBody;
    expect(error.code).toBe(code);
    // No "Retryable with backoff." beside x-should-retry: false: the retries are spent.
    expect(error.message).toMatch(/Gave up after 4 attempts; retryable later\.$/);
    expect(sim.requests).toHaveLength(4);
  });

  it('504 when the upstream never answers within the deadline', async () => {
    await boot({ LLM_ATTEMPT_TIMEOUT_MS: '80', LLM_TOTAL_TIMEOUT_MS: '150' });
    sim.script([{ type: 'hang', repeat: 5 }]);
    const res = await post({ messages: MESSAGES });
    expect(res.status).toBe(504);
    expect(['timeout', 'deadline_exceeded']).toContain(
      ((await res.json()) as ErrorBody).error.code,
    );
  });

  it('an open breaker: 503 circuit_open with Retry-After, /health 503, ready degraded, live up', async () => {
    await boot({ LLM_BREAKER_FAILURES: '2', LLM_MAX_RETRIES: '1', LLM_BREAKER_MAX_WAIT_MS: '0' });
    sim.script([{ type: 'error', status: 500, repeat: 2 }]);
    expect((await post({ messages: MESSAGES })).status).toBe(502);

    const rejected = await post({ messages: MESSAGES });
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(Number(rejected.headers.get('retry-after-ms'))).toBeLessThanOrEqual(200);
    expect(rejected.headers.get('x-llm-attempts')).toBe('0');
    expect(((await rejected.json()) as ErrorBody).error.code).toBe('circuit_open');
    expect(sim.requests).toHaveLength(2);

    const health = await getJson<HealthBody>('/health');
    expect(health.status).toBe(503);
    expect(health.body.details.llm).toMatchObject({ status: 'down', openBreakers: 1 });
    expect(health.body.details.llm.breakers[0]).toMatchObject({
      upstream: 'primary',
      model: 'gpt-4o-mini',
      state: 'open',
      lastFailure: { kind: 'server_error', status: 500 },
    });
    const ready = await getJson<HealthBody>('/health/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'degraded' } });
    expect(await getJson('/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('a break over without a probe: /health stays 503 (half-open, not recovered), readiness lets the probe in', async () => {
    await boot({ LLM_BREAKER_FAILURES: '2', LLM_MAX_RETRIES: '1', LLM_BREAKER_MAX_WAIT_MS: '0' });
    sim.script([{ type: 'error', status: 500, repeat: 2 }]);
    expect((await post({ messages: MESSAGES })).status).toBe(502);
    // Past the 200 ms break, no call: nothing has shown the upstream back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await getJson<HealthBody>('/health');
    expect(health.status).toBe(503);
    expect(health.body.details.llm.breakers[0]).toMatchObject({ state: 'half_open' });
    const ready = await getJson<HealthBody>('/health/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok' } });
    // The probe passes: recovered.
    expect((await post({ messages: MESSAGES })).status).toBe(200);
    expect(await getJson('/health')).toMatchObject({ status: 200 });
  });

  it('readiness fails while open with LLM_READY_FAIL_WHEN_OPEN=true', async () => {
    await boot({
      LLM_BREAKER_FAILURES: '1',
      LLM_MAX_RETRIES: '0',
      LLM_READY_FAIL_WHEN_OPEN: 'true',
    });
    expect(await getJson('/health/ready')).toMatchObject({ status: 200, body: { status: 'ok' } });
    sim.script([{ type: 'error', status: 503 }]);
    await post({ messages: MESSAGES });
    const ready = await getJson<HealthBody>('/health/ready');
    expect(ready).toMatchObject({ status: 503, body: { status: 'error' } });
    expect(ready.body.details.llm.openBreakers).toBe(1);
  });

  it('a stream cut mid-way ends with an error event and no [DONE]', async () => {
    await boot();
    sim.script([{ type: 'stream', chunks: ['one ', 'two ', 'three ', 'four'], cutAfter: 2 }]);
    const res = await post({ messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events).not.toContain('data: [DONE]');
    const last = JSON.parse(events.at(-1)!.replace(/^data: /, '')) as ErrorBody;
    expect(last.error).toMatchObject({ code: 'incomplete_stream', type: 'upstream_error' });
    expect(events.length).toBeGreaterThanOrEqual(3);
  });

  it('a stream that fails before content is a plain JSON error', async () => {
    await boot();
    sim.script([{ type: 'error', status: 401 }]);
    const res = await post({ messages: MESSAGES, stream: true });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await res.json()) as ErrorBody).error.code).toBe('auth');
  });

  it('bulkhead full: 503 at once; a client that leaves frees its slot', async () => {
    await boot({ LLM_MAX_CONCURRENCY: '1', LLM_MAX_QUEUE: '0' });
    sim.script([{ type: 'hang' }, { type: 'ok', content: 'after' }]);
    const leaving = new AbortController();
    const first = post({ messages: MESSAGES }, { signal: leaving.signal }).catch(() => undefined);
    while (sim.requests.length === 0) await sleep(5);

    const rejected = await post({ messages: MESSAGES });
    expect(rejected.status).toBe(503);
    expect(((await rejected.json()) as ErrorBody).error.code).toBe('bulkhead_full');

    leaving.abort();
    await first;
    await sleep(20);
    const after = await post({ messages: MESSAGES });
    expect(after.status).toBe(200);
  });

  it('a streaming client that leaves mid-stream ends the upstream stream and frees its slot', async () => {
    await boot({ LLM_MAX_CONCURRENCY: '1', LLM_MAX_QUEUE: '0' });
    const chunks = Array.from({ length: 200 }, (_, i) => `w${i} `);
    sim.script([
      { type: 'stream', chunks, delayMs: 10 },
      { type: 'ok', content: 'after' },
    ]);
    const leaving = new AbortController();
    const res = await post({ messages: MESSAGES, stream: true }, { signal: leaving.signal });
    const reader = res.body!.getReader();
    await reader.read();
    leaving.abort();
    await reader.closed.catch(() => undefined);
    await sleep(30);
    // The drip would take 2 s; the slot is free long before.
    const after = await post({ messages: MESSAGES });
    expect(after.status).toBe(200);
    expect(sim.requests).toHaveLength(2);
  });
});
