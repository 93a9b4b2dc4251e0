import { type INestMicroservice } from '@nestjs/common';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { LlmDrain } from '../src/llm/lifecycle/llm-drain';
import { propagateLlmTraceContext } from '../src/llm/microservices/llm-client-proxy.tracing';
import type { LlmEventDocument } from '../src/llm/observability/events/llm-event.fields';
import { isLlmErrorJson } from '../src/llm/resilience/llm-error.json';
import { isLlmError, LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { startWorker, SUMMARISE } from './support/llm-microservice-app';
import { TEST_API_KEY } from './support/llm-test-app';
import { MicroserviceWorkerProcess } from './support/microservice-worker.process';
import {
  eventually,
  inMemoryTracing,
  inProducerSpan,
  within,
} from './support/microservice-scenarios';
import { freeLoopbackPort } from './support/redis-server';

const tracing = inMemoryTracing();
const requestEvents = (events: LlmEventDocument[]) =>
  events.filter((e) => e['event.action'] === 'llm-request');

describe('a TCP microservice that calls the LLM, with the user in the packet metadata', () => {
  let sim: UpstreamSimulator;
  let worker: INestMicroservice;
  let port: number;
  let client: ClientProxy;
  let sigtermWorker: MicroserviceWorkerProcess | undefined;
  const events: LlmEventDocument[] = [];

  const tcpClient = (to = port) =>
    ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: to },
    });

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    port = await freeLoopbackPort();
    worker = await startWorker({
      transport: 'tcp',
      tcpPort: port,
      upstreamUrl: sim.baseUrl,
      events,
    });
    // The producer's user and request id travel as metadata (read with getMetadata()).
    client = propagateLlmTraceContext(tcpClient(), {
      headers: () => ({ 'x-user-id': 'u-tcp', 'x-request-id': 'req-tcp-1' }),
    });
    await client.connect();
  });
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
    expect([error.kind, error.status, error.retryable, error.attempts]).toEqual([
      'auth',
      401,
      false,
      1,
    ]);
    expect(sim.requests).toHaveLength(1);
  });

  it("continues the producer's trace and records a tcp request event with the metadata's user", async () => {
    sim.script([{ type: 'ok', content: 'a summary' }]);

    const producer = await inProducerSpan(tracing.provider, () =>
      firstValueFrom(client.send<string>(SUMMARISE, { text: 'hi' })),
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
      'rpc.system.name': 'tcp',
      'messaging.destination.name': SUMMARISE,
      'llm.request.rpc_outcome': 'ack',
    });
    expect(call.spanContext().traceId).toBe(producer.traceId);
    expect(call.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
    const event = await eventually(() => requestEvents(events)[0], 'the request event');
    expect(event).toMatchObject({
      'llm.request.transport': 'tcp',
      'llm.request.pattern': SUMMARISE,
      'llm.request.rpc_outcome': 'ack',
      'llm.request.outcome': 'success',
      'user.id': 'u-tcp',
      'llm.request_id': 'req-tcp-1',
      'trace.id': producer.traceId,
    });
    expect(event).not.toHaveProperty('http.response.status_code');
  });

  it('on drain, lets the call in flight finish and refuses new messages with shutting_down', async () => {
    sim.script([{ type: 'ok', content: 'finished while draining', latencyMs: 600 }]);
    const answer = firstValueFrom(client.send<string>(SUMMARISE, { text: 'slow' }));
    await eventually(() => (sim.requests.length === 1 ? true : undefined), 'the upstream call');

    const drained = worker.get(LlmDrain).drain();
    const refused: unknown = await firstValueFrom(client.send(SUMMARISE, { text: 'late' })).catch(
      (e: unknown) => e,
    );

    expect(LlmError.fromJSON(refused)?.kind).toBe('shutting_down');
    await expect(answer).resolves.toBe('finished while draining');
    expect(await drained).toMatchObject({ inFlightAtStart: 1, ended: 0 });
    expect(sim.requests).toHaveLength(1);
  });

  it('ends a call that outlasts the drain timeout as shutting_down, recorded in its event', async () => {
    const cutEvents: LlmEventDocument[] = [];
    const cutPort = await freeLoopbackPort();
    const cutWorker = await startWorker({
      transport: 'tcp',
      tcpPort: cutPort,
      upstreamUrl: sim.baseUrl,
      events: cutEvents,
      drainTimeoutMs: 100,
    });
    const producer = tcpClient(cutPort);
    try {
      sim.script([{ type: 'ok', content: 'too late', latencyMs: 900 }]);
      const answer = firstValueFrom(producer.send(SUMMARISE, { text: 'slow' })).catch(
        (e: unknown) => e,
      );
      await eventually(() => (sim.requests.length === 1 ? true : undefined), 'the upstream call');

      const drained = await cutWorker.get(LlmDrain).drain();

      expect(drained).toMatchObject({ inFlightAtStart: 1, ended: 1 });
      expect(LlmError.fromJSON(await answer)?.kind).toBe('shutting_down');
      const call = await eventually(
        () => cutEvents.find((e) => e['event.action'] === 'llm-call'),
        'the call event',
      );
      expect(call).toMatchObject({ 'event.outcome': 'failure', 'error.type': 'shutting_down' });
      expect(sim.requests).toHaveLength(1);
    } finally {
      await producer.close();
      await cutWorker.close();
    }
  });

  it('as its own process, on SIGTERM mid-call: finishes the call, answers, then exits', async () => {
    const workerPort = await freeLoopbackPort();
    sigtermWorker = await MicroserviceWorkerProcess.start({
      WORKER_TRANSPORT: 'tcp',
      WORKER_TCP_PORT: String(workerPort),
      WORKER_UPSTREAM_URL: sim.baseUrl,
    });
    const producer = tcpClient(workerPort);
    try {
      sim.script([{ type: 'ok', content: 'done before exit', latencyMs: 600 }]);
      const answer = firstValueFrom(producer.send<string>(SUMMARISE, { text: 'slow' }));
      await eventually(() => (sim.requests.length === 1 ? true : undefined), 'the upstream call');

      sigtermWorker.signal('SIGTERM');

      await expect(within(answer, 'the answer')).resolves.toBe('done before exit');
      const exit = await within(sigtermWorker.exited, 'the exit');
      expect(exit.signal).toBe('SIGTERM');
      expect(sim.requests).toHaveLength(1);
      const request = sigtermWorker.events().find((e) => e['event.action'] === 'llm-request');
      expect(request).toMatchObject({ 'llm.request.transport': 'tcp', 'event.outcome': 'success' });
    } catch (error) {
      throw new Error(`${String(error)}\nworker output:\n${sigtermWorker.log()}`, { cause: error });
    } finally {
      await producer.close();
    }
  }, 90_000);
});
