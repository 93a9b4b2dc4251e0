import { runWithLlmContext } from '../src/llm/observability/llm-context.storage';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';
import { CallRecorder } from './support/call-recorder';

describe('call telemetry hooks', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  let observer: CallRecorder;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    t = await startLlmApp(sim.baseUrl);
  });
  beforeEach(() => {
    sim.reset();
    observer = new CallRecorder();
    t.app.get(LlmTelemetry).register(observer);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  it('follow a retried call attempt by attempt, with why and how long it waited', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'error', status: 429, headers: { 'retry-after-ms': '5' } },
      { type: 'ok', content: 'third time' },
    ]);
    await t.llm.chat({ messages: USER }, { userId: 'u-1', featureName: 'faq' });
    expect(observer.log).toEqual([
      'start chat',
      'attempt 1 after nothing',
      'attempt 1 overloaded 503',
      'retry 1 overloaded via backoff',
      'attempt 2 after backoff',
      'attempt 2 rate_limited 429',
      'retry 2 rate_limited via retry-after-ms',
      'attempt 3 after retry-after-ms',
      'attempt 3 ok 200',
      'end ok',
    ]);
    const [call] = observer.calls;
    expect(call?.context).toMatchObject({ userId: 'u-1', featureName: 'faq' });
    expect(call?.response).toMatchObject({
      finishReasons: ['stop'],
      inputTokens: expect.any(Number) as number,
    });
    expect(call?.response?.id).toMatch(/^chatcmpl-/);
    expect(call?.attempts[2]?.delayBeforeMs).toBe(5);
  });

  it('end a failed call with the error the caller got', async () => {
    sim.script([{ type: 'error', status: 401 }]);
    await failureOf(() => t.llm.chat({ messages: USER }));
    expect(observer.log.at(-1)).toBe('end auth');
  });

  it('end a circuit-open rejection without any attempt', async () => {
    const strict = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 1, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
    });
    try {
      const own = new CallRecorder();
      strict.app.get(LlmTelemetry).register(own);
      sim.script([{ type: 'error', status: 500 }]);
      await failureOf(() => strict.llm.chat({ messages: USER }));
      await failureOf(() => strict.llm.chat({ messages: USER }));
      expect(own.log.slice(-2)).toEqual(['start chat', 'end circuit_open']);
    } finally {
      await strict.close();
    }
  });

  it('end a stream when its last chunk arrived, with its finish reasons', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b'] }]);
    const stream = t.llm.chatStream({ messages: USER });
    await stream.ready();
    expect(observer.log).not.toContain('end ok');
    for await (const chunk of stream) void chunk;
    expect(observer.log.at(-1)).toBe('end ok');
    expect(observer.calls[0]?.response?.finishReasons).toEqual(['stop']);
  });

  it('end a stream the consumer left early as cancelled, and one cut mid-way as incomplete', async () => {
    sim.script([
      { type: 'stream', chunks: ['a', 'b', 'c'], delayMs: 20 },
      { type: 'stream', chunks: ['a', 'b', 'c'], cutAfter: 1 },
    ]);
    for await (const chunk of t.llm.chatStream({ messages: USER })) {
      void chunk;
      break;
    }
    await failureOf(async () => {
      for await (const chunk of t.llm.chatStream({ messages: USER })) void chunk;
    });
    expect(observer.log.filter((line) => line.startsWith('end'))).toEqual([
      'end cancelled',
      'end incomplete_stream',
    ]);
  });

  it('picks the user and feature up from runWithLlmContext; explicit options win', async () => {
    await runWithLlmContext({ userId: 'job-user', featureName: 'digest' }, async () => {
      await t.llm.chat({ messages: USER });
      await t.llm.chat({ messages: USER }, { featureName: 'override' });
    });
    expect(observer.calls.map((c) => c.context)).toEqual([
      { userId: 'job-user', featureName: 'digest', requestId: undefined },
      { userId: 'job-user', featureName: 'override', requestId: undefined },
    ]);
  });
});
