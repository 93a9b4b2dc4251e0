import { type INestMicroservice } from '@nestjs/common';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { propagateLlmTraceContext } from '../src/llm/microservices/llm-client-proxy.tracing';
import type { LlmEventDocument } from '../src/llm/observability/events/llm-event.fields';
import { LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { startWorker, SUMMARISE } from './support/llm-microservice-app';
import { eventually, inMemoryTracing, inProducerSpan } from './support/microservice-scenarios';
import { RedisServer } from './support/redis-server';

const tracing = inMemoryTracing();

describe('a Redis-transport microservice that calls the LLM, user in getMetadata()', () => {
  let redis: RedisServer;
  let sim: UpstreamSimulator;
  let worker: INestMicroservice;
  let client: ClientProxy;
  const events: LlmEventDocument[] = [];

  beforeAll(async () => {
    [redis, sim] = await Promise.all([RedisServer.start(), UpstreamSimulator.start()]);
    worker = await startWorker({
      transport: 'redis',
      redisPort: redis.port,
      upstreamUrl: sim.baseUrl,
      events,
    });
    client = propagateLlmTraceContext(
      ClientProxyFactory.create({
        transport: Transport.REDIS,
        options: { host: '127.0.0.1', port: redis.port },
      }),
      { headers: () => ({ 'x-user-id': 'u-redis' }) },
    );
    await client.connect();
  });
  beforeEach(() => {
    sim.reset();
    tracing.reset();
    events.length = 0;
  });
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    await sim?.close();
    await redis?.close();
  });

  it("records a redis request event with the channel and user, in the producer's trace", async () => {
    sim.script([{ type: 'ok', content: 'a summary' }]);

    const producer = await inProducerSpan(tracing.provider, () =>
      firstValueFrom(client.send<string>(SUMMARISE, { text: 'hi' })),
    );

    expect(producer.result).toBe('a summary');
    const event = await eventually(
      () => events.find((e) => e['event.action'] === 'llm-request'),
      'the request event',
    );
    expect(event).toMatchObject({
      'llm.request.transport': 'redis',
      'llm.request.pattern': SUMMARISE,
      'llm.request.rpc_outcome': 'ack',
      'user.id': 'u-redis',
      'trace.id': producer.traceId,
    });
  });

  it('sends the producer a typed error for a 429 that outlasted the retries', async () => {
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '5' }, repeat: 10 }]);

    const received: unknown = await firstValueFrom(client.send(SUMMARISE, { text: 'hi' })).catch(
      (e: unknown) => e,
    );

    const error = LlmError.fromJSON(received)!;
    expect([error.kind, error.retryable, error.status, error.attempts]).toEqual([
      'rate_limited',
      true,
      429,
      4,
    ]);
  });
});
