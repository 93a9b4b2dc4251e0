import { runWithLlmContext } from '../src/llm/observability/llm-context.storage';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { inMemoryTracing } from './support/in-memory-tracing';
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
  describe('the starts, reported once the request is handed to Node', () => {
    /**
     * Resolves two ticks from now, still in this turn of the event loop (before any timer or I/O
     * callback): after the ticks a call queued while it was opened and sent, and theirs.
     */
    const twoTicks = () =>
      new Promise<void>((resolve) => process.nextTick(() => process.nextTick(resolve)));

    it('reports the call and its attempt after the send, in the same turn, then the ends', async () => {
      sim.script([{ type: 'ok', content: 'x' }]);
      const done = t.llm.chat({ messages: USER });
      const whenSent = [...observer.log];
      await twoTicks();
      const aTickLater = [...observer.log];
      await done;
      expect(whenSent).toEqual([]);
      expect(aTickLater).toEqual(['start chat', 'attempt 1 after nothing']);
      expect(observer.log).toEqual([
        'start chat',
        'attempt 1 after nothing',
        'attempt 1 ok 200',
        'end ok',
      ]);
    });

    it('reports the starts before the ends of an attempt that failed before its send', async () => {
      // A body that cannot be encoded: the attempt fails in the transport, nothing is written.
      const error = await failureOf(() => t.llm.chat({ messages: USER, extra: 1n }));
      expect(error.kind).toBe('internal');
      expect(sim.requests).toHaveLength(0);
      expect(observer.log).toEqual([
        'start chat',
        'attempt 1 after nothing',
        'attempt 1 internal',
        'end internal',
      ]);
    });

    it('reports the start before the end of a call aborted before anything was sent', async () => {
      const error = await failureOf(() =>
        t.llm.chat({ messages: USER }, { signal: AbortSignal.abort() }),
      );
      expect(error.kind).toBe('cancelled');
      expect(observer.log).toEqual(['start chat', 'end cancelled']);
    });

    it('reports the start before the end of a call the rate limiter refused', async () => {
      const limited = await startLlmApp(sim.baseUrl, { limits: { rpm: 1, windowMs: 60_000 } });
      try {
        const own = new CallRecorder();
        limited.app.get(LlmTelemetry).register(own);
        await limited.llm.chat({ messages: USER });
        own.log.length = 0;
        const error = await failureOf(() =>
          limited.llm.chat({ messages: USER }, { deadlineMs: 500 }),
        );
        expect(error.kind).toBe('rate_limited');
        expect(own.log).toEqual(['start chat', 'end rate_limited']);
      } finally {
        await limited.close();
      }
    });

    it("reports a waiting call's start in the turn it began, its attempt's once sent", async () => {
      const limited = await startLlmApp(sim.baseUrl, { limits: { rpm: 1, windowMs: 200 } });
      try {
        const own = new CallRecorder();
        limited.app.get(LlmTelemetry).register(own);
        await limited.llm.chat({ messages: USER });
        own.log.length = 0;
        // No budget left: this one waits for the next window.
        const done = limited.llm.chat({ messages: USER });
        await twoTicks();
        const aTickLater = [...own.log];
        await done;
        expect(aTickLater).toEqual(['start chat']);
        expect(own.log).toEqual([
          'start chat',
          'attempt 1 after nothing',
          'attempt 1 ok 200',
          'end ok',
        ]);
      } finally {
        await limited.close();
      }
    });

    it('keeps the order through retries and a stream', async () => {
      sim.script([
        { type: 'error', status: 503 },
        { type: 'stream', chunks: ['a', 'b'] },
      ]);
      const stream = t.llm.chatStream({ messages: USER });
      const ready = stream.ready();
      const whenSent = [...observer.log];
      await ready;
      for await (const chunk of stream) void chunk;
      expect(whenSent).toEqual([]);
      expect(observer.log).toEqual([
        'start stream',
        'attempt 1 after nothing',
        'attempt 1 overloaded 503',
        'retry 1 overloaded via backoff',
        'attempt 2 after backoff',
        'attempt 2 ok 200',
        'end ok',
      ]);
    });
    // While a tracer provider records spans: the last case of this file (see there).
  });

  describe('a call answered by a relay (chatAnswering)', () => {
    it('answers before the successful attempt and the call end are reported, then reports both', async () => {
      sim.script([
        { type: 'error', status: 503 },
        { type: 'ok', content: 'second time' },
      ]);
      let seen: string[] = [];
      let answered: { attempts: number; content: unknown } | undefined;
      await t.llm.chatAnswering(
        { messages: USER },
        { userId: 'u-7' },
        ({ completion, metadata }) => {
          seen = [...observer.log];
          answered = {
            attempts: metadata.attempts,
            content: completion.choices[0]?.message.content,
          };
        },
      );
      expect(answered).toEqual({ attempts: 2, content: 'second time' });
      // The failed attempt and its retry as they happened; the successful one after the answer.
      expect(seen).toEqual([
        'start chat',
        'attempt 1 after nothing',
        'attempt 1 overloaded 503',
        'retry 1 overloaded via backoff',
        'attempt 2 after backoff',
      ]);
      expect(observer.log.slice(seen.length)).toEqual(['attempt 2 ok 200', 'end ok']);
      expect(observer.last.error).toBeUndefined();
      expect(observer.last.context).toMatchObject({ userId: 'u-7' });
      expect(observer.last.attempts[1]?.breakerAfter).toBe('closed');
    });

    it('reports the same call as chat does', async () => {
      sim.script([
        { type: 'ok', content: 'one' },
        { type: 'ok', content: 'one' },
      ]);
      const viaChat = await t.llm.chat({ messages: USER }, { featureName: 'f' });
      const chatLog = [...observer.log];
      observer.log.length = 0;
      let metadata: typeof viaChat.metadata | undefined;
      await t.llm.chatAnswering({ messages: USER }, { featureName: 'f' }, (result) => {
        metadata = result.metadata;
      });
      expect(observer.log).toEqual(chatLog);
      const [first, second] = observer.calls;
      expect(second?.context).toEqual(first?.context);
      expect(second?.response?.finishReasons).toEqual(first?.response?.finishReasons);
      expect(second?.endedAt).toBeGreaterThanOrEqual(second!.startedAt);
      // Per call: its ids, its duration and the upstream's processing time (same header names).
      const perCall = (m: typeof viaChat.metadata) => ({
        ...m,
        clientRequestId: '',
        durationMs: 0,
        upstreamRequestId: '',
        upstreamHeaders: Object.keys(m.upstreamHeaders ?? {}),
      });
      expect(perCall(metadata!)).toEqual(perCall(viaChat.metadata));
      expect(perCall(viaChat.metadata).upstreamHeaders).toEqual(['openai-processing-ms']);
    });

    it('throws a failed call as chat does, without answering', async () => {
      sim.script([{ type: 'error', status: 401 }]);
      let calls = 0;
      const error = await failureOf(() =>
        t.llm.chatAnswering({ messages: USER }, {}, () => {
          calls++;
        }),
      );
      expect(calls).toBe(0);
      expect(error.kind).toBe('auth');
      expect(observer.log.slice(-2)).toEqual(['attempt 1 auth 401', 'end auth']);
    });

    it('throws what the answer threw, once the call is reported', async () => {
      sim.script([{ type: 'ok', content: 'x' }]);
      const error = await failureOf<Error>(() =>
        t.llm.chatAnswering({ messages: USER }, {}, () => {
          throw new Error('client went away');
        }),
      );
      expect(error.message).toBe('client went away');
      expect(observer.log.slice(-2)).toEqual(['attempt 1 ok 200', 'end ok']);
      expect(observer.last.error).toBeUndefined();
    });

    it('reports the starts where they happen and the call before the answer while a tracer provider records spans', async () => {
      const tracing = inMemoryTracing();
      tracing.start();
      try {
        sim.script([
          { type: 'ok', content: 'traced' },
          { type: 'ok', content: 'traced' },
        ]);
        // The starts where they happen, before the send (a span takes its start time then).
        const viaChat = t.llm.chat({ messages: USER });
        const whenSent = [...observer.log];
        await viaChat;
        expect(whenSent).toEqual(['start chat', 'attempt 1 after nothing']);
        tracing.reset();
        observer.log.length = 0;
        let seen: string[] = [];
        let spans = 0;
        const answering = t.llm.chatAnswering({ messages: USER }, {}, () => {
          seen = [...observer.log];
          spans = tracing.spans().length;
        });
        expect(observer.log).toEqual(['start chat', 'attempt 1 after nothing']);
        await answering;
        expect(seen).toEqual([
          'start chat',
          'attempt 1 after nothing',
          'attempt 1 ok 200',
          'end ok',
        ]);
        // The attempt's span and the call's ended before the answer, as with chat.
        expect(spans).toBe(2);
      } finally {
        await tracing.stop();
      }
    });
  });
});
