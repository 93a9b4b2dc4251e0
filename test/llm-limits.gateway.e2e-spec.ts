import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { RedisServer } from './support/redis-server';

interface ErrorBody {
  error: { message: string; code: string | null };
}

describe('gateway: LLM_RPM, LLM_TPM and REDIS_URL', () => {
  let sim: UpstreamSimulator;
  let redis: RedisServer;
  const apps: GatewayTestApp[] = [];

  /** One gateway replica against the simulator, budgets in the test's Redis. */
  async function gateway(env: Record<string, string>): Promise<string> {
    const app = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, REDIS_URL: redis.url, ...env });
    apps.push(app);
    return app.url;
  }

  const post = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20 }),
    });

  beforeAll(async () => {
    [sim, redis] = await Promise.all([UpstreamSimulator.start(), RedisServer.start()]);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    sim.reset();
  });
  afterAll(async () => {
    await Promise.all([sim.close(), redis.close()]);
  });

  it('shares one budget between replicas and answers 429 with Retry-After past the deadline', async () => {
    const env = {
      LLM_UPSTREAM_NAME: 'gw-shared',
      LLM_RPM: '2',
      LLM_RATE_WINDOW_MS: '2000',
      // Not paced: both calls may go at once, the window decides.
      LLM_RATE_INTERVAL_MS: '0',
      LLM_ATTEMPT_TIMEOUT_MS: '1000',
      LLM_TOTAL_TIMEOUT_MS: '1000',
    };
    const [a, b] = await Promise.all([gateway(env), gateway(env)]);
    expect((await post(a)).status).toBe(200);
    expect((await post(b)).status).toBe(200);
    // The third call, on either replica, would wait about 2 s: past its 1 s deadline. It is
    // refused up front, not once the deadline it would have waited out has passed.
    const started = Date.now();
    const rejected = await post(a);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(rejected.status).toBe(429);
    // A wait cures this one: the client may send it again after Retry-After.
    expect(rejected.headers.get('x-should-retry')).toBeNull();
    // About the 2 s window, held 1 % longer for jitter: 2 s, or 3 once rounded up past 2000 ms.
    const retryAfter = Number(rejected.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    expect(retryAfter).toBeLessThanOrEqual(3);
    const body = (await rejected.json()) as ErrorBody;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toContain("rate-limit budget of upstream 'gw-shared'");
    expect(sim.requests).toHaveLength(2);
  });

  it('without LLM_RPM, answers 429 with Retry-After, unsent, while a 429 holds the model', async () => {
    const url = await gateway({ LLM_UPSTREAM_NAME: 'gw-held', LLM_TOTAL_TIMEOUT_MS: '1000' });
    // The provider asks for 5 s: past the 1 s deadline, so the refused call ends at once too.
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '5000' } }]);
    const first = await post(url);
    expect(first.status).toBe(429);
    await first.text();
    const started = Date.now();
    const held = await post(url);
    // Not the 5 s wait, nor the 1 s deadline (LLM_TOTAL_TIMEOUT_MS): refused before either.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(held.status).toBe(429);
    const retryAfter = Number(held.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(4);
    expect(retryAfter).toBeLessThanOrEqual(5);
    const body = (await held.json()) as ErrorBody;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toContain('answered 429 to an earlier call and asked to wait');
    expect(sim.requests).toHaveLength(1);
  });

  it('boots with only LLM_RPM and LLM_TOTAL_TIMEOUT_MS set: the attempt timeout gives way, said once', async () => {
    const lines: string[] = [];
    const logger = {
      log: (message: unknown) => void lines.push(String(message)),
      error: () => undefined,
      warn: () => undefined,
    };
    const app = await startGatewayApp(
      { LLM_BASE_URL: sim.baseUrl, LLM_RPM: '1200', LLM_TOTAL_TIMEOUT_MS: '30000' },
      { logger },
    );
    apps.push(app);
    expect((await post(app.url)).status).toBe(200);
    expect(lines.filter((line) => line.includes('defaults adjusted'))).toEqual([
      "Upstream 'primary': defaults adjusted to the values you set: timeouts.attemptMs 30000 " +
        '(default 60000; not above timeouts.deadlineMs).',
    ]);
  });

  it('limits tokens per window with LLM_TPM', async () => {
    const url = await gateway({
      LLM_UPSTREAM_NAME: 'gw-tokens',
      LLM_TPM: '10',
      LLM_ATTEMPT_TIMEOUT_MS: '500',
      LLM_TOTAL_TIMEOUT_MS: '500',
    });
    const tooLarge = await post(url);
    expect(tooLarge.status).toBe(429);
    // Never fits, whatever the wait: an SDK must not send it again (OpenAI's retries a 429 twice).
    expect(tooLarge.headers.get('x-should-retry')).toBe('false');
    expect(tooLarge.headers.get('retry-after')).toBeNull();
    expect(((await tooLarge.json()) as ErrorBody).error.message).toContain('Lower max_tokens');
    expect(sim.requests).toHaveLength(0);
  });
});
