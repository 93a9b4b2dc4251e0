import { type INestMicroservice } from '@nestjs/common';
import {
  type ClientProxy,
  ClientProxyFactory,
  RmqRecordBuilder,
  Transport,
} from '@nestjs/microservices';
import { connect } from 'amqplib';
import { firstValueFrom } from 'rxjs';
import { LlmDrain } from '../src/llm/lifecycle/llm-drain';
import { propagateLlmTraceContext } from '../src/llm/microservices/llm-client-proxy.tracing';
import type { LlmEventDocument } from '../src/llm/observability/events/llm-event.fields';
import { isLlmErrorJson } from '../src/llm/resilience/llm-error.json';
import { isLlmError, LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { startWorker, SUMMARISE, SUMMARISE_REQUEUED } from './support/llm-microservice-app';
import { TEST_API_KEY } from './support/llm-test-app';
import { MicroserviceWorkerProcess } from './support/microservice-worker.process';
import {
  eventually,
  inMemoryTracing,
  inProducerSpan,
  within,
} from './support/microservice-scenarios';
import { RabbitMqServer } from './support/rabbitmq-server';

const QUEUE = 'llm-summaries';
const tracing = inMemoryTracing();
const requestEvents = (events: LlmEventDocument[]) =>
  events.filter((e) => e['event.action'] === 'llm-request');

describe('an RMQ microservice (manual ack) that calls the LLM, on a real broker', () => {
  let broker: RabbitMqServer;
  let sim: UpstreamSimulator;
  let worker: INestMicroservice;
  let client: ClientProxy;
  let sigtermWorker: MicroserviceWorkerProcess | undefined;
  const events: LlmEventDocument[] = [];

  const rmqClient = (queue = QUEUE) =>
    ClientProxyFactory.create({
      transport: Transport.RMQ,
      options: { urls: [broker.url], queue, queueOptions: { durable: false } },
    });

  beforeAll(async () => {
    [broker, sim] = await Promise.all([RabbitMqServer.start(), UpstreamSimulator.start()]);
    worker = await startWorker({
      transport: 'rmq',
      rmqUrl: broker.url,
      upstreamUrl: sim.baseUrl,
      events,
    });
    client = propagateLlmTraceContext(rmqClient());
    await client.connect();
  }, 120_000);
  beforeEach(() => {
    sim.reset();
    tracing.reset();
    events.length = 0;
  });
  afterAll(async () => {
    sigtermWorker?.kill();
    await client?.close();
    await worker?.close();
    await sim?.close();
    await broker?.close();
  });

  it('sends the producer a typed, redacted error for a 401, without retrying it', async () => {
    sim.script([{ type: 'error', status: 401, message: `Incorrect API key: ${TEST_API_KEY}` }]);

    const received: unknown = await firstValueFrom(client.send(SUMMARISE, { text: 'hi' })).catch(
      (e: unknown) => e,
    );

    expect(isLlmErrorJson(received)).toBe(true);
    expect(JSON.stringify(received)).not.toContain('TESTKEY');
    const error = LlmError.fromJSON(received)!;
    expect(isLlmError(error)).toBe(true);
    expect(error).toBeInstanceOf(LlmError);
    expect([error.kind, error.code, error.status, error.retryable, error.attempts]).toEqual([
      'auth',
      'LLM_AUTH',
      401,
      false,
      1,
    ]);
    expect(error.message).toMatch(/key/i);
    expect(sim.requests).toHaveLength(1);
    const event = await eventually(() => requestEvents(events)[0], 'the request event');
    expect(event).toMatchObject({
      'llm.request.transport': 'rmq',
      'llm.request.rpc_outcome': 'error',
      'event.outcome': 'failure',
      'error.type': 'auth',
    });
  });

  it("continues the producer's trace and records an rmq request event with the pattern and user", async () => {
    sim.script([{ type: 'ok', content: 'a summary' }]);
    const record = new RmqRecordBuilder({ text: 'hi' })
      .setOptions({ headers: { 'x-user-id': 'u-rmq', 'x-request-id': 'req-rmq-1' } })
      .build();

    const producer = await inProducerSpan(tracing.provider, () =>
      firstValueFrom(client.send<string>(SUMMARISE, record)),
    );

    expect(producer.result).toBe('a summary');
    const call = await eventually(
      () => tracing.spans().find((s) => /^chat [^ ]+$/.test(s.name)),
      'the call span',
    );
    // producer send -> process summarise (the worker's handler) -> chat gpt-4o-mini
    const handler = await eventually(
      () => tracing.spans().find((s) => s.name === `process ${SUMMARISE}`),
      'the handler span',
    );
    expect(handler.parentSpanContext?.spanId).toBe(producer.spanId);
    expect(handler.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': SUMMARISE,
      'llm.request.rpc_outcome': 'ack',
    });
    expect(call.spanContext().traceId).toBe(producer.traceId);
    expect(call.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
    const event = await eventually(() => requestEvents(events)[0], 'the request event');
    expect(event).toMatchObject({
      'llm.request.transport': 'rmq',
      'llm.request.pattern': SUMMARISE,
      'llm.request.rpc_outcome': 'ack',
      'llm.request.redelivered': false,
      'llm.request.outcome': 'success',
      'llm.feature': 'summaries',
      'user.id': 'u-rmq',
      'llm.request_id': 'req-rmq-1',
      'trace.id': producer.traceId,
    });
    expect(event).not.toHaveProperty('http.response.status_code');
    expect(event['event.category']).not.toContain('web');
  });

  it('starts a trace of its own when the producer sends no trace context', async () => {
    sim.script([{ type: 'ok', content: 'untraced' }]);
    const plain = rmqClient();
    try {
      const producer = await inProducerSpan(tracing.provider, () =>
        firstValueFrom(plain.send<string>(SUMMARISE, { text: 'hi' })),
      );
      const call = await eventually(
        () => tracing.spans().find((s) => /^chat [^ ]+$/.test(s.name)),
        'the call span',
      );
      expect(call.spanContext().traceId).not.toBe(producer.traceId);
    } finally {
      await plain.close();
    }
  });

  it("marks a redelivery and keeps the producer's request id on both deliveries", async () => {
    sim.script([
      { type: 'ok', content: 'first' },
      { type: 'ok', content: 'second' },
    ]);
    const record = new RmqRecordBuilder({ text: 'hi' })
      .setOptions({ headers: { 'x-request-id': 'req-twice' } })
      .build();

    await firstValueFrom(client.emit(SUMMARISE_REQUEUED, record));

    const [first, second] = await eventually(() => {
      const both = requestEvents(events);
      return both.length === 2 ? both : undefined;
    }, 'two request events');
    expect([first, second].map((e) => e!['llm.request.redelivered'])).toEqual([false, true]);
    expect([first, second].map((e) => e!['llm.request.rpc_outcome'])).toEqual(['nack', 'ack']);
    expect([first, second].map((e) => e!['llm.request_id'])).toEqual(['req-twice', 'req-twice']);
    expect(sim.requests).toHaveLength(2);
  });

  it('on drain, stops consuming first and lets the call in flight finish', async () => {
    sim.script([{ type: 'ok', content: 'finished while draining', latencyMs: 700 }]);
    const answer = firstValueFrom(client.send<string>(SUMMARISE, { text: 'slow' }));
    await eventually(() => (sim.requests.length === 1 ? true : undefined), 'the upstream call');

    const drained = worker.get(LlmDrain).drain();

    await expect(answer).resolves.toBe('finished while draining');
    expect(await drained).toMatchObject({ inFlightAtStart: 1, ended: 0 });
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createChannel();
      expect((await channel.checkQueue(QUEUE)).consumerCount).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('as its own process, on SIGTERM mid-call: finishes the call, answers, then exits', async () => {
    sigtermWorker = await MicroserviceWorkerProcess.start({
      WORKER_TRANSPORT: 'rmq',
      WORKER_RMQ_URL: broker.url,
      WORKER_QUEUE: 'llm-sigterm',
      WORKER_UPSTREAM_URL: sim.baseUrl,
    });
    const client = ClientProxyFactory.create({
      transport: Transport.RMQ,
      options: { urls: [broker.url], queue: 'llm-sigterm', queueOptions: { durable: false } },
    });
    try {
      sim.script([{ type: 'ok', content: 'done before exit', latencyMs: 600 }]);
      const answer = firstValueFrom(client.send<string>(SUMMARISE, { text: 'slow' }));
      await eventually(() => (sim.requests.length === 1 ? true : undefined), 'the upstream call');

      sigtermWorker.signal('SIGTERM');

      await expect(within(answer, 'the answer')).resolves.toBe('done before exit');
      const exit = await within(sigtermWorker.exited, 'the exit');
      expect(exit.signal).toBe('SIGTERM');
      expect(sim.requests).toHaveLength(1);
      const request = sigtermWorker.events().find((e) => e['event.action'] === 'llm-request');
      expect(request).toMatchObject({
        'llm.request.transport': 'rmq',
        'llm.request.rpc_outcome': 'ack',
        'event.outcome': 'success',
      });
    } catch (error) {
      throw new Error(`${String(error)}\nworker output:\n${sigtermWorker.log()}`, { cause: error });
    } finally {
      await client.close();
    }
  }, 90_000);
});
