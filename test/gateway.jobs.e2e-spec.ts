import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { join } from 'node:path';
import OpenAI from 'openai';
import { drainGateway } from '../src/gateway/graceful-shutdown';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { LlmJobsRuntime } from '../src/llm/jobs/llm-jobs.runtime';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { freshQueue } from './support/llm-jobs-app';
import { PromText } from './support/prometheus-text';
import { readsOf, ruleExpressions } from './support/promql-selectors';
import { RabbitMqServer } from './support/rabbitmq-server';
import { RedisServer } from './support/redis-server';
import { eventually } from './support/eventually';

const KEY = 'sk-gateway-jobs-test';
const RULES = join(__dirname, '..', 'deploy', 'prometheus', 'alerts.jobs.yml');
const BODY = { messages: [{ role: 'user', content: 'Write me a poem' }] };

interface JobBody {
  id: string;
  object: string;
  status: string;
  position?: number;
  completion?: { choices: { message: { content: string } }[] };
  error?: { code: string; kind: string };
}

describe('gateway: Prefer: respond-async, /v1/jobs', () => {
  let provider: MeterProvider;
  let broker: RabbitMqServer;
  let redis: RedisServer;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;

  const caller = (key: string, user = 'u-1') => ({
    authorization: `Bearer ${key}`,
    'x-user-id': user,
  });
  const post = (headers: Record<string, string> = {}, body: object = BODY) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        prefer: 'respond-async',
        ...caller('client-a'),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const get = (location: string, headers: Record<string, string> = caller('client-a')) =>
    fetch(`${gateway.url}${location}`, { headers });
  const del = (location: string, headers: Record<string, string> = caller('client-a')) =>
    fetch(`${gateway.url}${location}`, { method: 'DELETE', headers });

  beforeAll(async () => {
    provider = new MeterProvider({ readers: [prometheusExporter] });
    metrics.setGlobalMeterProvider(provider);
    [broker, redis, sim] = await Promise.all([
      RabbitMqServer.start(),
      RedisServer.start(),
      UpstreamSimulator.start({ apiKey: KEY }),
    ]);
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      RABBITMQ_URL: broker.url,
      REDIS_URL: redis.url,
      LLM_JOBS_QUEUE: freshQueue(),
      // One job at a time, so a second one stays queued behind a hanging first.
      LLM_JOBS_CONCURRENCY: '1',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
  }, 120_000);

  afterEach(() => sim.reset());

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([broker?.close(), redis?.close(), sim?.close()]);
    await provider?.shutdown();
    metrics.disable();
  });

  it('answers synchronously without the preference (the official openai SDK)', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'client-a', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
  });

  it('202 + Location, then GET with Prefer: wait gives the completion; DELETE of an ended job keeps it', async () => {
    const accepted = await post();
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    const job = (await accepted.json()) as JobBody;
    expect(location).toBe(`/v1/jobs/${job.id}`);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');
    expect(job).toMatchObject({ object: 'llm.job', status: 'queued' });

    const done = await get(location, { ...caller('client-a'), prefer: 'wait=10' });
    expect(done.status).toBe(200);
    const body = (await done.json()) as JobBody;
    expect(body.status).toBe('completed');
    expect(body.completion?.choices[0]?.message.content).toEqual(expect.any(String));
    expect(done.headers.get('retry-after')).toBeNull();

    const deleted = await del(location);
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as JobBody).status).toBe('completed');
  });

  it('a queued job has its position and Retry-After; DELETE cancels it; only its creator sees it', async () => {
    sim.script([{ type: 'hang' }]);
    const first = (await (await post()).json()) as JobBody;
    await eventually(() => sim.requests.length === 1, { timeoutMs: 10_000 });
    const second = await post();
    const location = second.headers.get('location')!;

    const queued = await get(location);
    expect(queued.status).toBe(200);
    expect(Number(queued.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await queued.json()) as JobBody).toMatchObject({ status: 'queued', position: 1 });
    // The gauges see it: one job ready in the queue, the oldest waiting for some time.
    await gateway.app.get(LlmJobsRuntime).refreshGauges();
    const prom = new PromText(await (await fetch(`${gateway.url}/metrics`)).text());
    expect(prom.sum('llm_jobs_queue_depth')).toBe(1);
    expect(prom.sum('llm_jobs_queue_oldest_age')).toBeGreaterThan(0);
    // Another key, or another user with the same key: 404, as for a job that does not exist.
    expect((await get(location, caller('client-b'))).status).toBe(404);
    expect((await get(location, caller('client-a', 'u-2'))).status).toBe(404);
    // Users whose ids differ only past the 256 characters a log line keeps are two users.
    const long = `${'u'.repeat(256)}-alice`;
    const own = (await post(caller('client-a', long))).headers.get('location')!;
    expect((await get(own, caller('client-a', `${'u'.repeat(256)}-mallory`))).status).toBe(404);
    expect((await get(own, caller('client-a', long))).status).toBe(200);
    expect((await del(own, caller('client-a', long))).status).toBe(200);
    expect((await del(location, caller('client-b'))).status).toBe(404);

    const cancelled = await del(location);
    expect(((await cancelled.json()) as JobBody).status).toBe('cancelled');
    const running = await del(`/v1/jobs/${first.id}`);
    expect(((await running.json()) as JobBody).status).toBe('cancelled');
    // The cancelled queued job never reached the upstream.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim.requests).toHaveLength(1);
  });

  it('rejects stream with respond-async, and an unknown job, in OpenAI shape', async () => {
    const stream = await post({}, { ...BODY, stream: true });
    expect(stream.status).toBe(400);
    expect(((await stream.json()) as { error: { param: string } }).error.param).toBe('stream');
    const missing = await get('/v1/jobs/no-such-job');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'job_not_found',
    );
    // Every answer carries a request id, these too.
    expect(missing.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/);
    // A hostile id is not echoed whole, nor its control characters.
    const hostile = await get(`/v1/jobs/${'x'.repeat(5_000)}%0D%0Aforged%E2%80%AE`);
    expect(hostile.status).toBe(404);
    const { message } = ((await hostile.json()) as { error: { message: string } }).error;
    expect(message.length).toBeLessThan(300);
    expect(message).not.toMatch(/[\r\n\u202e]/);
  });

  it('with Redis down: enqueue still works, GET says the state is unknown, the state is written once Redis is back', async () => {
    await redis.stop();
    const accepted = await post();
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    const unknown = await get(location);
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toBe('2');
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      'job_state_unavailable',
    );

    await redis.restart();
    const done = await eventually(
      async () => {
        const res = await get(location, { ...caller('client-a'), prefer: 'wait=5' });
        const job = res.status === 200 ? ((await res.json()) as JobBody) : undefined;
        return job?.status === 'completed' ? job : false;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the job to complete' },
    );
    expect(done.status).toBe('completed');
  }, 30_000);

  it('boots with RabbitMQ unreachable: synchronous calls work, respond-async answers 503', async () => {
    const down = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      // Nothing listens on port 1.
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1',
      REDIS_URL: redis.url,
      LLM_JOBS_QUEUE: freshQueue(),
    });
    try {
      const send = (headers: Record<string, string>) =>
        fetch(`${down.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(BODY),
        });
      expect((await send({})).status).toBe(200);
      const async = await send({ prefer: 'respond-async' });
      expect(async.status).toBe(503);
      expect(async.headers.get('retry-after')).toBe('2');
      expect(((await async.json()) as { error: { code: string } }).error.code).toBe(
        'job_queue_unavailable',
      );
    } finally {
      await down.close();
    }
  }, 30_000);

  it('a Prefer: wait long poll is answered at once with the job state when the gateway drains', async () => {
    // No worker: the job stays queued, and the long poll would wait its 30 s.
    const draining = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      RABBITMQ_URL: broker.url,
      REDIS_URL: redis.url,
      LLM_JOBS_QUEUE: freshQueue(),
      LLM_JOBS_WORKER: 'false',
    });
    try {
      const accepted = await fetch(`${draining.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async', ...caller('a') },
        body: JSON.stringify(BODY),
      });
      const location = accepted.headers.get('location')!;
      const polled = fetch(`${draining.url}${location}`, {
        headers: { ...caller('a'), prefer: 'wait=30' },
      });
      polled.catch(() => undefined);
      // The poll is waiting by then (one that came later would be answered at once, too).
      await new Promise((resolve) => setTimeout(resolve, 500));

      const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };
      const drained = drainGateway(draining.app, { delayMs: 100, logger: silent });
      // Answered as a plain GET would be (the wait was not honoured), not cut when the server closes.
      const res = await polled;
      expect(res.status).toBe(200);
      expect(res.headers.get('preference-applied')).toBeNull();
      expect(res.headers.get('retry-after')).toBe('2');
      expect(((await res.json()) as JobBody).status).toBe('queued');
      await drained;
    } finally {
      await draining.close();
    }
  }, 30_000);

  it('serves the jobs metrics every jobs alert rule reads', async () => {
    await gateway.app.get(LlmJobsRuntime).refreshGauges();
    const prom = new PromText(await (await fetch(`${gateway.url}/metrics`)).text());
    const read = ruleExpressions(RULES).flatMap(({ expr }) => readsOf(expr).selectors);
    expect(new Set(read.map((s) => s.metric))).toEqual(
      new Set([
        'llm_jobs_queue_oldest_age',
        'llm_jobs_broker_connected',
        'llm_jobs_outcomes_total',
        'up',
      ]),
    );
    for (const { metric, matchers } of read) {
      if (metric === 'up') continue; // written by Prometheus for every target
      // Each series a rule reads, with the exact label values it matches: one series each.
      const subset = Object.fromEntries(matchers.map((m) => [m.label, m.value]));
      expect(matchers.every((m) => m.op === '=')).toBe(true);
      expect([metric, subset, prom.find(metric, subset).length]).toEqual([metric, subset, 1]);
    }
    expect(prom.find('llm_jobs_queue_depth')).toHaveLength(1);
    // Connected to RabbitMQ: one series, 1.
    expect(prom.find('llm_jobs_broker_connected').map((s) => s.value)).toEqual([1]);
    // No job was dead-lettered here, yet the series is served, at 0: increase() counts the first.
    expect(prom.find('llm_jobs_outcomes_total', { llm_job_outcome: 'dead_lettered' })).toEqual([
      expect.objectContaining({ value: 0 }),
    ]);
    const outcomes = prom.find('llm_jobs_outcomes_total').map((s) => s.labels.llm_job_outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['completed', 'cancelled']));
  });
});
