import { Controller, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Ctx,
  EventPattern,
  MessagePattern,
  MicroserviceOptions,
  Payload,
  RmqContext,
  TcpContext,
  Transport,
} from '@nestjs/microservices';
import { LlmClient } from '../../src/llm/client/llm-client';
import { LlmModule } from '../../src/llm/llm.module';
import { LlmRpcExceptionFilter } from '../../src/llm/microservices/llm-rpc-exception.filter';
import { LlmEventSink } from '../../src/llm/observability/events/llm-event.sink';
import type { LlmEventDocument } from '../../src/llm/observability/events/llm-event.fields';
import { LlmFeature } from '../../src/llm/observability/llm-feature.decorator';
import { FAST_POLICIES, TEST_API_KEY } from './llm-test-app';

/** The pattern the test worker answers. */
export const SUMMARISE = 'summarise';
/** An event pattern whose first delivery is requeued (nack, requeue) after its LLM call. */
export const SUMMARISE_REQUEUED = 'summarise-requeued';

/**
 * A worker as a Nest developer writes one: RMQ with manual ack (ack on success, nack without
 * requeue on failure: the library already retried), TCP with plain replies.
 */
@LlmFeature('summaries')
@Controller()
class SummaryController {
  constructor(private readonly llm: LlmClient) {}

  @MessagePattern(SUMMARISE)
  async summarise(
    @Payload() data: { text: string },
    @Ctx() ctx: RmqContext | TcpContext,
  ): Promise<string> {
    const rmq = ctx instanceof RmqContext ? ctx : undefined;
    const channel = rmq?.getChannelRef() as
      { ack(m: unknown): void; nack(m: unknown, all: boolean, requeue: boolean): void } | undefined;
    try {
      const { completion } = await this.llm.chat({
        messages: [{ role: 'user', content: data.text }],
      });
      channel?.ack(rmq!.getMessage());
      const content = completion.choices[0]?.message.content;
      return typeof content === 'string' ? content : '';
    } catch (error) {
      channel?.nack(rmq!.getMessage(), false, false);
      throw error;
    }
  }

  /** Not what to do in production (see docs/microservices.md): a way to get a redelivery. */
  @EventPattern(SUMMARISE_REQUEUED)
  async summariseRequeued(
    @Payload() data: { text: string },
    @Ctx() context: unknown,
  ): Promise<void> {
    const ctx = context as RmqContext;
    await this.llm.chat({ messages: [{ role: 'user', content: data.text }] });
    const message = ctx.getMessage() as { fields: { redelivered: boolean } };
    const channel = ctx.getChannelRef() as {
      ack(m: unknown): void;
      nack(m: unknown, all: boolean, requeue: boolean): void;
    };
    if (message.fields.redelivered) channel.ack(message);
    else channel.nack(message, false, true);
  }
}

/** What the worker needs: the broker or port, and the upstream. */
export interface WorkerSetup {
  transport: 'rmq' | 'tcp' | 'redis';
  /** RMQ: the broker URL; TCP: the port to listen on; Redis: the server's port. */
  rmqUrl?: string;
  tcpPort?: number;
  redisPort?: number;
  queue?: string;
  upstreamUrl: string;
  /** Events go here (the module's own builders); else to stdout as JSON lines. */
  events?: LlmEventDocument[];
  drainTimeoutMs?: number;
}

export function workerTransport(setup: WorkerSetup): MicroserviceOptions {
  if (setup.transport === 'redis') {
    return { transport: Transport.REDIS, options: { host: '127.0.0.1', port: setup.redisPort! } };
  }
  return setup.transport === 'rmq'
    ? {
        transport: Transport.RMQ,
        options: {
          urls: [setup.rmqUrl!],
          queue: setup.queue ?? 'llm-summaries',
          noAck: false,
          queueOptions: { durable: false },
        },
      }
    : { transport: Transport.TCP, options: { host: '127.0.0.1', port: setup.tcpPort! } };
}

/** Boots the worker microservice (context global, the RPC filter, events captured or logged). */
export async function startWorker(setup: WorkerSetup): Promise<INestMicroservice> {
  const events = setup.events;
  let builder = Test.createTestingModule({
    imports: [
      LlmModule.forRoot({
        upstreams: [
          {
            name: 'sim',
            baseUrl: setup.upstreamUrl,
            apiKey: TEST_API_KEY,
            defaultModel: 'gpt-4o-mini',
            ...FAST_POLICIES,
          },
        ],
        context: { global: true },
        events: { log: true },
        drain: { timeoutMs: setup.drainTimeoutMs ?? 10_000 },
      }),
    ],
    controllers: [SummaryController],
  });
  if (events) {
    // The module's own event recorder and builders, with a sink that keeps the documents.
    const sink: LlmEventSink = { write: (event) => void events.push(event) };
    builder = builder.overrideProvider(LlmEventSink).useValue(sink);
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
    ...workerTransport(setup),
    logger: false,
  });
  app.useGlobalFilters(new LlmRpcExceptionFilter());
  await app.listen();
  return app;
}
