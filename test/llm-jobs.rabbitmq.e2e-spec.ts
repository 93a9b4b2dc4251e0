import { Logger } from '@nestjs/common';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { buildCallEvent } from '../src/llm/observability/events/llm-call.event';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import {
  freshQueue,
  type JobsAppTarget,
  type JobsTestApp,
  peekQueue,
  settled,
  startJobsApp,
} from './support/llm-jobs-app';
import { FAST_POLICIES, TEST_API_KEY, USER } from './support/llm-test-app';
import { WorkerProcess } from './support/worker.process';
import { RabbitMqServer } from './support/rabbitmq-server';
import { RedisServer } from './support/redis-server';
import { eventually } from './support/eventually';
import { inMemoryTracing } from './support/in-memory-tracing';
import { recordCalls } from './support/call-recorder';
import { PromText } from './support/prometheus-text';
import { TestMetricReader } from './support/test-metric-reader';

// One broker, one Redis and one simulator for the suite; each test has queues of its own.
const tracing = inMemoryTracing();
const { exporter } = tracing;
// The jobs metrics of the apps started in this process (the standalone worker serves its own).
const reader = new TestMetricReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

describe('durable LLM jobs on a real RabbitMQ', () => {
  let broker: RabbitMqServer;
  let redis: RedisServer;
  let sim: UpstreamSimulator;
  const apps: JobsTestApp[] = [];

  /** The standalone worker (npm run worker) on this suite's simulator, broker and Redis. */
  const startWorker = (queue = freshQueue()) =>
    WorkerProcess.start({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: TEST_API_KEY,
      RABBITMQ_URL: broker.url,
      REDIS_URL: redis.url,
      LLM_JOBS_QUEUE: queue,
    });
  const target = (queue = freshQueue()): JobsAppTarget => ({
    rabbitmqUrl: broker.url,
    redisUrl: redis.url,
    simUrl: sim.baseUrl,
    queue,
  });
  const start = async (...args: Parameters<typeof startJobsApp>) => {
    const app = await startJobsApp(...args);
    apps.push(app);
    return app;
  };
  const requestsOf = (jobId: string) =>
    sim.requests.filter((r) => r.headers['x-client-request-id'] === jobId);

  beforeAll(async () => {
    tracing.start();
    [broker, redis, sim] = await Promise.all([
      RabbitMqServer.start(),
      RedisServer.start(),
      UpstreamSimulator.start(),
    ]);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    sim.reset();
    exporter.reset();
  });

  afterAll(async () => {
    await Promise.all([broker?.close(), redis?.close(), sim?.close()]);
    await tracing.stop();
    await provider.shutdown();
    metrics.disable();
  });

  it('enqueue → complete: the id comes back at once, the completion and metadata once done', async () => {
    const t = await start(target());
    const { calls } = recordCalls(t.app);

    const queued = await t.jobs.enqueue(
      { messages: USER },
      { userId: 'u-1', featureName: 'writer' },
    );
    expect(queued).toMatchObject({ state: 'queued', context: { userId: 'u-1' } });
    const seen: string[] = [];
    const unsubscribe = t.jobs.subscribe(queued.id, (update) => void seen.push(update.state));
    const [job] = await settled(t.jobs, [queued.id]);
    await eventually(() => seen.includes('completed'), { timeoutMs: 10_000 });
    unsubscribe();

    expect(job).toMatchObject({ state: 'completed', deliveries: 1 });
    expect(job!.completion?.choices[0]?.message.content).toEqual(expect.any(String));
    // The job id is the client request id of every attempt: a redelivery keeps it.
    expect(job!.metadata).toMatchObject({ clientRequestId: queued.id, attempts: 1 });
    expect(requestsOf(queued.id)).toHaveLength(1);
    // The business event carries the job and its queue wait.
    const event = buildCallEvent(calls[0]!, { serviceName: 'test', dataset: 'llm.calls' });
    expect(event).toMatchObject({
      'llm.job.id': queued.id,
      'user.id': 'u-1',
      'llm.feature': 'writer',
    });
    expect(event['llm.job.queue_wait_ms']).toEqual(expect.any(Number));
  });

  it('takes at most the bulkhead maxConcurrent jobs at once (the prefetch), whatever concurrency asks', async () => {
    sim.script([{ type: 'hang', repeat: 3 }]);
    const t = await start(target(), {
      jobs: { concurrency: 50 },
      upstream: { bulkhead: { maxConcurrent: 2, maxQueue: 0 } },
    });
    expect(t.worker.concurrency).toBe(2);
    await Promise.all([1, 2, 3].map(() => t.jobs.enqueue({ messages: USER })));
    await eventually(() => sim.requests.length === 2, { timeoutMs: 10_000 });
    await eventually(async () => (await t.runtime.broker.depth()) === 1, { timeoutMs: 10_000 });
    // The third job waits in the broker, not in the worker: no bulkhead_full, no third request.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim.requests).toHaveLength(2);
    expect(t.worker.inFlight).toBe(2);
  });

  it('runs a job published twice (a duplicate, or a redelivery while it runs) once: the second copy waits for the first', async () => {
    sim.configure({ latencyMs: 400 });
    const queue = freshQueue();
    const t = await start(target(queue), { jobs: { concurrency: 2 } });
    // The job as a producer sends it, twice, as a broker redelivers it after losing the channel
    // of the worker still running the first copy.
    const now = Date.now();
    const id = randomUUID();
    const job = {
      id,
      request: { messages: USER },
      context: {},
      enqueuedAt: now,
      deadlineAt: now + 60_000,
    };
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < 2; i++) {
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(job)), {
          persistent: true,
          messageId: id,
        });
      }
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    // Published past LlmJobs, the job has a state once the worker took its first copy (a fresh-
    // clone run under load read it before that: not found).
    await eventually(async () => (await t.jobs.get(id).catch(() => undefined)) !== undefined, {
      timeoutMs: 10_000,
    });
    const [done] = await settled(t.jobs, [id]);
    expect(done).toMatchObject({ state: 'completed' });
    await eventually(
      async () => (await t.runtime.broker.depth()) === 0 && t.worker.inFlight === 0,
      {
        timeoutMs: 10_000,
      },
    );
    expect(requestsOf(id)).toHaveLength(1);
    sim.configure({ latencyMs: 0 });
  });

  it('keeps enqueueing and consuming after the broker closes a channel on its own (a channel error)', async () => {
    const t = await start(target());
    const broker = t.runtime.broker as unknown as {
      publisher?: { checkQueue(queue: string): Promise<unknown> };
      consumer?: { channel?: { checkQueue(queue: string): Promise<unknown> } };
    };
    // A 404 on a passive declare closes the channel it was sent on, as a message over the
    // broker's max_message_size does; the connection stays up.
    await broker.publisher!.checkQueue('no-such-queue').catch(() => undefined);
    await broker.consumer!.channel!.checkQueue('no-such-queue').catch(() => undefined);
    await eventually(() => t.runtime.broker.ready, { timeoutMs: 5_000 });
    const queued = await t.jobs.enqueue({ messages: USER });
    const [job] = await settled(t.jobs, [queued.id]);
    expect(job).toMatchObject({ state: 'completed' });
  });

  it('links the enqueue span to the worker span, and the call span is its child', async () => {
    const t = await start(target());
    const tracer = trace.getTracer('test');
    const { id } = await tracer.startActiveSpan('request', async (span) => {
      const job = await t.jobs.enqueue({ messages: USER });
      span.end();
      return job;
    });
    await settled(t.jobs, [id]);
    const spans = exporter.getFinishedSpans();
    const send = spans.find((s) => s.name.startsWith('send '))!;
    const processSpan = spans.find((s) => s.name.startsWith('process '))!;
    const call = spans.find((s) => /^chat /.test(s.name) && !s.name.includes('attempt'))!;

    expect(send.attributes['llm.job.id']).toBe(id);
    expect(processSpan.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(call.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
    expect(processSpan.attributes['llm.job.queue_wait_ms']).toEqual(expect.any(Number));
  });

  it('cancel: a queued job never runs; a running one is aborted and not redelivered', async () => {
    const queue = freshQueue();
    const producer = await start(target(queue), { jobs: { worker: false } });
    const queued = await producer.jobs.enqueue({ messages: USER });
    expect((await producer.jobs.cancel(queued.id)).state).toBe('cancelled');

    sim.script([{ type: 'hang' }]);
    const worker = await start(target(queue));
    const running = await worker.jobs.enqueue({ messages: USER });
    await eventually(() => requestsOf(running.id).length === 1, { timeoutMs: 10_000 });
    expect((await producer.jobs.get(running.id)).state).toBe('running');
    await producer.jobs.cancel(running.id);
    const [cancelledQueued, cancelledRunning] = await settled(worker.jobs, [queued.id, running.id]);

    expect(cancelledQueued!.state).toBe('cancelled');
    expect(requestsOf(queued.id)).toHaveLength(0);
    expect(cancelledRunning!.state).toBe('cancelled');
    await eventually(() => worker.worker.inFlight === 0, { timeoutMs: 10_000 });
    expect(await worker.runtime.broker.depth()).toBe(0);
    expect(requestsOf(running.id)).toHaveLength(1);
  });

  it('a job whose deadline passes while queued fails with deadline_exceeded and never runs', async () => {
    const queue = freshQueue();
    const producer = await start(target(queue), { jobs: { worker: false } });
    const { id } = await producer.jobs.enqueue({ messages: USER }, { deadlineMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = await start(target(queue));
    const [job] = await settled(worker.jobs, [id]);

    expect(job).toMatchObject({ state: 'failed', error: { kind: 'deadline_exceeded' } });
    expect(job!.error!.message).toMatch(/waited .* in the queue, past its deadline/);
    expect(requestsOf(id)).toHaveLength(0);
  });

  it('a queued job reads as failed (deadline_exceeded) once its deadline passed, before a worker takes it', async () => {
    const queue = freshQueue();
    const producer = await start(target(queue), { jobs: { worker: false } });
    const { id } = await producer.jobs.enqueue({ messages: USER }, { deadlineMs: 300 });
    expect((await producer.jobs.get(id)).state).toBe('queued');
    // No worker, so nothing changes in the store: wait() wakes at the deadline all the same
    // (before its re-read every 5 s).
    const started = Date.now();
    const expired = await producer.jobs.wait(id, { timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(expired).toMatchObject({ state: 'failed', error: { kind: 'deadline_exceeded' } });
    expect(expired.error!.message).toMatch(/waited .* in the queue, past its deadline/);
    expect(expired.position).toBeUndefined();
    // Ended as far as callers know: a cancel returns it as it is.
    expect((await producer.jobs.cancel(id)).state).toBe('failed');
    // The message still waits in the broker; the worker that takes it stores the same failure
    // and never runs it.
    expect(await producer.runtime.broker.depth()).toBe(1);
    const worker = await start(target(queue));
    await eventually(async () => (await worker.runtime.store.read(id))?.record.state === 'failed', {
      timeoutMs: 10_000,
    });
    expect(await worker.jobs.get(id)).toMatchObject({
      state: 'failed',
      error: { kind: 'deadline_exceeded' },
    });
    expect(requestsOf(id)).toHaveLength(0);
  }, 30_000);

  it('a job that keeps failing goes to the dead-letter queue after maxDeliveries, with its last error', async () => {
    sim.script([{ type: 'error', status: 500, repeat: 50 }]);
    const queue = freshQueue();
    const t = await start(target(queue), {
      jobs: { maxDeliveries: 3 },
      upstream: { retry: { maxRetries: 0 } },
    });
    const { id } = await t.jobs.enqueue({ messages: USER });
    const [job] = await settled(t.jobs, [id]);

    expect(job).toMatchObject({
      state: 'failed',
      deadLettered: true,
      delays: 2,
      error: { kind: 'server_error', status: 500 },
    });
    // Three runs, one attempt each, all under the job's client request id.
    expect(requestsOf(id)).toHaveLength(3);
    const dead = await peekQueue(broker.url, `${queue}.dead`);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.body).toMatchObject({ id });
    const lastError = JSON.parse(String(dead[0]!.headers['x-llm-last-error'])) as object;
    expect(lastError).toMatchObject({ kind: 'server_error', status: 500 });
  });

  it('a job whose workers keep stopping mid-run is dead-lettered after maxDeliveries', async () => {
    sim.script([{ type: 'hang', repeat: 2 }]);
    const queue = freshQueue();
    const producer = await start(target(queue), { jobs: { worker: false } });
    const { id } = await producer.jobs.enqueue({ messages: USER });
    // Two workers in turn take the job and stop while its call hangs: nothing is acked.
    for (let run = 1; run <= 2; run++) {
      const worker = await start(target(queue), { jobs: { maxDeliveries: 2 } });
      await eventually(() => requestsOf(id).length === run, { timeoutMs: 10_000 });
      apps.splice(apps.indexOf(worker), 1);
      await worker.close();
    }
    const last = await start(target(queue), { jobs: { maxDeliveries: 2 } });
    const [job] = await settled(last.jobs, [id]);

    expect(job).toMatchObject({ state: 'failed', deadLettered: true, deliveries: 3 });
    expect(job!.error!.message).toMatch(/worker stopped during 2 of them/);
    expect(requestsOf(id)).toHaveLength(2);
    const dead = await peekQueue(broker.url, `${queue}.dead`);
    expect(dead.map((m) => (m.body as { id: string }).id)).toEqual([id]);
  });

  it('a job waiting for a 429 hold when its worker stops goes back to the queue, unsent, and completes on the next worker', async () => {
    const queue = freshQueue();
    // The first job's call meets a 429 asking for 1.5 s: the model is held meanwhile.
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '1500' } }]);
    const worker = await start(target(queue), {
      jobs: { concurrency: 2 },
      upstream: { retry: { ...FAST_POLICIES.retry, maxServerHintMs: 5000 } },
    });
    const first = await worker.jobs.enqueue({ messages: USER });
    await eventually(() => requestsOf(first.id).length === 1, { timeoutMs: 10_000 });
    const held = await worker.jobs.enqueue({ messages: USER });
    await eventually(async () => (await worker.jobs.get(held.id)).state === 'running', {
      timeoutMs: 10_000,
    });
    apps.splice(apps.indexOf(worker), 1);
    await worker.close();
    expect(requestsOf(held.id)).toHaveLength(0);

    const next = await start(target(queue));
    const jobs = await settled(next.jobs, [first.id, held.id]);
    expect(jobs.map((j) => j.state)).toEqual(['completed', 'completed']);
    expect(requestsOf(held.id)).toHaveLength(1);
  });

  it('a rate-limit wait longer than holdMs becomes a delayed redelivery, not a busy loop', async () => {
    const t = await start(target(), {
      jobs: { holdMs: 100 },
      // 2 requests per second.
      upstream: { limits: { rpm: 2, windowMs: 1000 } },
    });
    const enqueued = await Promise.all(
      Array.from({ length: 5 }, () => t.jobs.enqueue({ messages: USER })),
    );
    const jobs = await settled(
      t.jobs,
      enqueued.map((j) => j.id),
    );

    expect(jobs.map((j) => j.state)).toEqual(Array(5).fill('completed'));
    // Waiting happened in the broker: some jobs were delayed, none reached the upstream twice.
    expect(jobs.some((j) => j.delays > 0)).toBe(true);
    for (const job of jobs) expect(requestsOf(job.id)).toHaveLength(1);
    const delayed = jobs.filter((j) => j.delays > 0);
    // Delayed jobs ran again after their wait (the rate limit's), not at once.
    for (const job of delayed) expect(job.deliveries).toBe(job.delays + 1);
  });

  it('two workers share one rate limiter through Redis', async () => {
    const queue = freshQueue();
    const shared = {
      module: { redis: { url: redis.url } },
      jobs: { holdMs: 10_000 },
    };
    const limits = { rpm: 3, windowMs: 1000 };
    const timeouts = { ...FAST_POLICIES.timeouts, deadlineMs: 10_000 };
    const a = await start(target(queue), {
      ...shared,
      upstream: { limits, defaultModel: 'model-a', timeouts },
    });
    const b = await start(target(queue), {
      ...shared,
      upstream: { limits, defaultModel: 'model-b', timeouts },
    });
    const enqueued = await Promise.all(
      Array.from({ length: 9 }, () => a.jobs.enqueue({ messages: USER })),
    );
    const jobs = await settled(
      b.jobs,
      enqueued.map((j) => j.id),
    );

    expect(jobs.map((j) => j.state)).toEqual(Array(9).fill('completed'));
    const times = sim.requests.map((r) => r.at).sort((x, y) => x - y);
    expect(times).toHaveLength(9);
    // Together they kept to 3 per second: any 4 consecutive admissions span at least 1 s. Arrivals
    // lag admissions by a varying delay under load, so the bound leaves 250 ms of it; two workers
    // with a limiter each would send 6 per second (4 consecutive spanning ~0.5 s) and still fail.
    for (let i = 3; i < times.length; i++) expect(times[i]! - times[i - 3]!).toBeGreaterThan(750);
    // Both workers ran jobs (each names its own default model).
    const models = new Set(sim.requests.map((r) => (r.body as { model: string }).model));
    expect(models).toEqual(new Set(['model-a', 'model-b']));
  });

  it('a worker killed mid-call (kill -9): the job is redelivered, re-run under the same client request id, stored once', async () => {
    const queue = freshQueue();
    // The first request hangs: the standalone worker (npm run worker) dies while it waits.
    sim.script([{ type: 'hang' }]);
    const doomed = await startWorker(queue);
    try {
      const producer = await start(target(queue), { jobs: { worker: false } });
      const { id } = await producer.jobs.enqueue({ messages: USER });
      await eventually(() => requestsOf(id).length === 1, { timeoutMs: 30_000 });
      expect((await producer.jobs.get(id)).state).toBe('running');
      // The standalone worker has no HTTP server: its metrics are served on a port of their own.
      const scrape = await fetch(doomed.metricsUrl);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^llm_bulkhead_in_use\{/m);
      const unacked = { 'llm.job.redelivery_reason': 'unacked' };
      const unackedBefore = (await reader.read()).sum('llm.jobs.redeliveries', unacked);
      doomed.kill();

      const worker = await start(target(queue));
      const [job] = await settled(worker.jobs, [id]);

      expect(job).toMatchObject({ state: 'completed', deliveries: 2 });
      // The broker's redelivery of the dead worker's run is counted, once.
      const unackedNow = (await reader.read()).sum('llm.jobs.redeliveries', unacked);
      expect(unackedNow - unackedBefore).toBe(1);
      const requests = requestsOf(id);
      expect(requests).toHaveLength(2);
      // The first run hung until its worker died; the second was answered.
      expect(requests[0]!.step).toBe('hang');
      expect(requests[1]!.step).toBeUndefined();
      // Stored once: a late redelivery finds the job ended and only acks it.
      expect(await worker.runtime.broker.depth()).toBe(0);
      expect(job!.metadata?.clientRequestId).toBe(id);
    } finally {
      doomed.kill();
    }
  }, 60_000);

  it('with Redis down, enqueue works and the worker holds the message until the outcome is stored', async () => {
    const t = await start(target());
    await redis.stop();
    try {
      const { id } = await t.jobs.enqueue({ messages: USER });
      // The worker ran the call, but cannot store its outcome: it holds the message.
      await eventually(() => requestsOf(id).length === 1, { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await redis.restart();
      // Reads fail plainly until the client has reconnected.
      const [job] = await eventually(() => settled(t.jobs, [id]), {
        timeoutMs: 20_000,
        intervalMs: 200,
      });

      // Stored once Redis was back, from the run that already happened: had the worker acked
      // without storing, no state would say completed; had it given the message back, the job
      // would have run twice.
      expect(job).toMatchObject({ state: 'completed' });
      expect(requestsOf(id)).toHaveLength(1);
      expect(await t.runtime.broker.depth()).toBe(0);
    } finally {
      if (!redis.running) await redis.restart();
    }
  });

  // Last: it restarts the suite's broker.
  it('a broker restart loses no accepted job', async () => {
    const queue = freshQueue();
    const producer = await start(target(queue), { jobs: { worker: false } });
    // A worker of another queue stays connected through the restart.
    const connected = await start(target());
    const before = await Promise.all(
      Array.from({ length: 5 }, () => producer.jobs.enqueue({ messages: USER })),
    );
    await broker.restart();
    // The producer reconnects by itself; an enqueue confirmed after the restart is kept too.
    const after = await eventually(() => producer.jobs.enqueue({ messages: USER }), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    const worker = await start(target(queue));
    const jobs = await settled(
      worker.jobs,
      [...before, after].map((j) => j.id),
    );

    expect(jobs.map((j) => j.state)).toEqual(Array(6).fill('completed'));
    for (const job of jobs) expect(requestsOf(job.id)).toHaveLength(1);
    // The worker that lived through the restart consumes again (amqplib's recovery).
    const late = await eventually(() => connected.jobs.enqueue({ messages: USER }), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect((await settled(connected.jobs, [late.id]))[0]!.state).toBe('completed');
  }, 60_000);

  it('says once when RabbitMQ answers again after the connection was lost', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      const producer = await start(target(), { jobs: { worker: false } });
      const lines = (spy: typeof log, pattern: RegExp) =>
        spy.mock.calls.map(([m]) => String(m)).filter((m) => pattern.test(m));
      // Connected at boot: nothing to say it is back.
      expect(lines(log, /RabbitMQ/)).toEqual([]);
      await broker.restart();
      await eventually(() => producer.runtime.broker.ready, { timeoutMs: 20_000 });
      await eventually(() => lines(log, /RabbitMQ/).length === 1, { timeoutMs: 5_000 });
      expect(lines(warn, /RabbitMQ connection lost/)).toHaveLength(1);
      expect(lines(log, /RabbitMQ/)).toEqual([
        expect.stringMatching(/^RabbitMQ answers again: reconnected/),
      ]);
      // The URL (with its password) is never logged.
      expect(lines(log, /guest/)).toEqual([]);
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  }, 60_000);

  it('reports the broker connection (llm.jobs.broker.connected): 0 never connected, 1 connected, 0 while the broker is down, 1 once back; the standalone worker serves it too', async () => {
    const connected = async () => (await reader.read()).gauge('llm.jobs.broker.connected', {});
    // Booted against a closed port (nothing listens on port 1): a sample of 0, not none.
    const unreachable = await start({ ...target(), rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:1' });
    expect(await connected()).toBe(0);
    await unreachable.close();
    apps.splice(apps.indexOf(unreachable), 1);

    await start(target(), { jobs: { worker: false } });
    expect(await connected()).toBe(1);
    const worker = await startWorker();
    const scraped = async () => {
      const prom = new PromText(await (await fetch(worker.metricsUrl)).text());
      const samples = prom.find('llm_jobs_broker_connected');
      // Not a number when the series is missing (or doubled): only a real 0 reads as 0.
      return samples.length === 1 ? samples[0]!.value : `${samples.length} series`;
    };
    try {
      expect(await scraped()).toBe(1);
      await broker.stop();
      await eventually(async () => (await connected()) === 0, { timeoutMs: 10_000 });
      await eventually(async () => (await scraped()) === 0, { timeoutMs: 10_000 });
      await broker.restart();
      await eventually(async () => (await connected()) === 1, { timeoutMs: 20_000 });
      await eventually(async () => (await scraped()) === 1, { timeoutMs: 20_000 });
    } finally {
      worker.kill();
    }
  }, 90_000);

  // Last: it kills the suite's broker.
  it('a standalone worker stopped by SIGTERM exits though the broker dies while it closes', async () => {
    const worker = await startWorker();
    try {
      // Its signal handlers are set just after the line WorkerProcess waits for.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The broker hangs, so the worker's close of its consumer waits for an answer; then the
      // broker dies (kill -9) under it, as in `kill -TERM $WORKER; kill -9 -- -$RMQ_PGID`.
      broker.pause();
      worker.signal('SIGTERM');
      // Its metrics server closes first: the shutdown has begun.
      await eventually(
        () =>
          fetch(worker.metricsUrl).then(
            () => false,
            () => true,
          ),
        { timeoutMs: 10_000, what: 'the worker to begin its shutdown' },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await broker.stop();
      // It stops reconnecting and exits (re-raising the signal), instead of retrying for ever.
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        worker.exited,
        new Promise((resolve) => (timer = setTimeout(resolve, 20_000))).then(() => worker.logs()),
      ]);
      clearTimeout(timer);
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    } finally {
      worker.kill();
    }
  }, 60_000);
});
