import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  INestApplication,
  INestMicroservice,
  Module,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ClientProxy,
  ClientProxyFactory,
  MessagePattern,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import { LlmModuleOptions } from '../src/llm/llm-module.options';
import { LlmContextInterceptor } from '../src/llm/observability/llm-context.interceptor';
import { LlmFeature } from '../src/llm/observability/llm-feature.decorator';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { FAST_POLICIES, USER } from './support/llm-test-app';
import { CallRecorder } from './support/call-recorder';

/** Plays the part of an authentication guard: `x-auth-user` becomes `request.user`. */
@Injectable()
class FakeAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: object }>();
    if (req.headers['x-auth-user']) req.user = { id: req.headers['x-auth-user'] };
    return true;
  }
}

@LlmFeature('support-chat')
@UseGuards(FakeAuthGuard)
@UseInterceptors(LlmContextInterceptor)
@Controller('support')
class SupportController {
  constructor(private readonly llm: LlmClient) {}

  @Get('ask')
  async ask(): Promise<string> {
    await this.llm.chat({ messages: USER });
    return 'ok';
  }

  @LlmFeature('faq')
  @Get('faq')
  async faq(): Promise<string> {
    await this.llm.chat({ messages: USER });
    return 'ok';
  }

  @Get('broken')
  async broken(): Promise<string> {
    await this.llm.chat({ messages: USER }).catch(() => undefined);
    throw new Error('the feature failed after its LLM call');
  }

  @Get('quiet')
  quiet(): string {
    return 'no LLM call here';
  }
}

@Controller()
class RpcController {
  constructor(private readonly llm: LlmClient) {}

  @MessagePattern('ask')
  async ask(@Payload() _data: { userId: string; featureName: string }): Promise<string> {
    const { completion } = await this.llm.chat({ messages: USER });
    return completion.choices[0]?.message.content as string;
  }
}

function llmOptions(baseUrl: string, extra: Partial<LlmModuleOptions> = {}): LlmModuleOptions {
  return {
    upstreams: [{ name: 'sim', baseUrl, defaultModel: 'gpt-4o-mini', ...FAST_POLICIES }],
    ...extra,
  };
}

describe('business context from HTTP requests', () => {
  let sim: UpstreamSimulator;
  let app: INestApplication;
  let url: string;
  let recorder: CallRecorder;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    const moduleRef = await Test.createTestingModule({
      imports: [LlmModule.forRoot(llmOptions(sim.baseUrl))],
      controllers: [SupportController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    recorder = new CallRecorder();
    app.get(LlmTelemetry).register(recorder);
  });
  beforeEach(() => {
    recorder.clear();
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/support/${path}`, { headers });

  it('takes the feature from the class decorator and the user from x-user-id', async () => {
    await get('ask', { 'x-user-id': 'u-7', 'x-request-id': 'req-123' });
    expect(recorder.calls[0]?.context).toEqual({
      userId: 'u-7',
      featureName: 'support-chat',
      requestId: 'req-123',
    });
  });

  it('a handler decorator wins over the class; the authenticated user wins over the header', async () => {
    await get('faq', { 'x-user-id': 'spoofed', 'x-auth-user': 'alice' });
    expect(recorder.calls[0]?.context).toMatchObject({ userId: 'alice', featureName: 'faq' });
    expect(recorder.calls[0]?.context.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a malformed x-request-id is replaced, not trusted', async () => {
    await get('ask', { 'x-request-id': 'bad id with spaces <script>' });
    expect(recorder.calls[0]?.context.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports how a request that made LLM calls ended, with its route and final status', async () => {
    await get('ask', { 'x-user-id': 'u-1' });
    await get('broken', { 'x-user-id': 'u-2' });
    await get('quiet');
    await new Promise((resolve) => setTimeout(resolve, 20)); // response 'close' events
    expect(recorder.requests.map((r) => [r.path, r.statusCode, r.context.calls.length])).toEqual([
      ['/support/ask', 200, 1],
      ['/support/broken', 500, 1],
    ]);
    expect(recorder.requests[0]?.context.route).toBe('/support/ask');
    expect(recorder.requests[1]?.error).toBeInstanceOf(Error);
  });
});

describe('business context with the global option and custom extractors', () => {
  it('applies to every controller without @UseInterceptors', async () => {
    @Controller('plain')
    class PlainController {
      constructor(private readonly llm: LlmClient) {}
      @Get()
      async ask(): Promise<string> {
        await this.llm.chat({ messages: USER });
        return 'ok';
      }
    }
    const sim = await UpstreamSimulator.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot(
          llmOptions(sim.baseUrl, {
            context: {
              global: true,
              userId: (ctx) =>
                ctx.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers[
                  'x-tenant-user'
                ],
            },
          }),
        ),
      ],
      controllers: [PlainController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const recorder = new CallRecorder();
      app.get(LlmTelemetry).register(recorder);
      await fetch(`${await app.getUrl()}/plain`, {
        headers: { 'x-tenant-user': 't-9', 'x-feature-name': 'tenant-chat' },
      });
      expect(recorder.calls[0]?.context).toMatchObject({
        userId: 't-9',
        featureName: 'tenant-chat',
      });
    } finally {
      await app.close();
      await sim.close();
    }
  });
});

describe('business context from microservice messages', () => {
  it('reads the user and feature from the message for RPC handlers', async () => {
    @Module({
      imports: [LlmModule.forRoot(llmOptions(sim.baseUrl, { context: { global: true } }))],
      controllers: [RpcController],
    })
    class RpcModule {}
    const moduleRef = await Test.createTestingModule({ imports: [RpcModule] }).compile();
    const service: INestMicroservice = moduleRef.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: 0 },
      logger: false,
    });
    await service.listen();
    const address = (
      service as unknown as { serverInstance?: { server?: { address(): { port: number } } } }
    ).serverInstance?.server?.address();
    const client: ClientProxy = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: address?.port ?? 0 },
    });
    try {
      const recorder = new CallRecorder();
      service.get(LlmTelemetry).register(recorder);
      sim.script([{ type: 'ok', content: 'rpc answer' }]);
      const answer = await firstValueFrom(
        client.send<string>('ask', { userId: 'rpc-user', featureName: 'rpc-feature' }),
      );
      expect(answer).toBe('rpc answer');
      expect(recorder.calls[0]?.context).toMatchObject({
        userId: 'rpc-user',
        featureName: 'rpc-feature',
      });
      expect(recorder.requests[0]).toMatchObject({ transport: 'rpc', statusCode: 200 });
      expect(recorder.requests[0]?.context.route).toBe('RpcController.ask');
    } finally {
      client.close();
      await service.close();
    }
  });

  let sim: UpstreamSimulator;
  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterAll(async () => {
    await sim.close();
  });
});
