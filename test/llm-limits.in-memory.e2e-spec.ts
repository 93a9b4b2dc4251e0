import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { setTimeout as sleep } from 'node:timers/promises';
import { LlmRateLimiter, UnlimitedRateLimiter } from '../src/llm/limits/llm-rate-limiter';
import { type LlmLimitOptions } from '../src/llm/limits/llm-limits.options';
import { BudgetRateLimiter } from '../src/llm/limits/budget-rate.limiter';
import { type LlmUpstreamOptions } from '../src/llm/llm-module.options';
import { LLM_METRICS as M } from '../src/llm/observability/llm-metric.instruments';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { failureOf, startLlmApp } from './support/llm-test-app';
import {
  expectFiveCallsQueuedTwoPerWindow,
  expectRefusedAtOnceOverDeadline,
  say,
  textOf,
} from './support/rate-limiter.checks';
import { TestMetricReader } from './support/test-metric-reader';

// Registered before any module boots: the limiter takes its meter when it is created. Counters
// are cumulative for the whole file, so each test uses its own upstream name.
const reader = new TestMetricReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

let upstreams = 0;

describe('rate limiter (in memory)', () => {
  let sim: UpstreamSimulator;
  const apps: Array<{ close(): Promise<void> }> = [];

  /** Boots LlmModule against the simulator with these budgets; records every ended call. */
  async function boot(limits: LlmLimitOptions, overrides: Partial<LlmUpstreamOptions> = {}) {
    const name = `u${++upstreams}`;
    const t = await startLlmApp(sim.baseUrl, { name, limits, ...overrides });
    apps.push(t);
    return { ...t, name, calls: recordCalls(t.app).calls };
  }

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await sim.close();
    await provider.shutdown();
  });

  it('costs nothing when no upstream sets a budget', async () => {
    const t = await startLlmApp(sim.baseUrl);
    apps.push(t);
    expect(t.app.get(LlmRateLimiter)).toBeInstanceOf(UnlimitedRateLimiter);
    const limited = await boot({ rpm: 10 });
    expect(limited.app.get(LlmRateLimiter)).toBeInstanceOf(BudgetRateLimiter);
  });

  it('queues calls first come first served within their deadline: callers see latency, not a 429', async () => {
    const t = await boot({ rpm: 2, windowMs: 400 });
    await expectFiveCallsQueuedTwoPerWindow(t.llm, sim, 400);
    // The wait is the limiter's, recorded on the attempt.
    const waits = t.calls.map((c) => c.attempts[0]!.limiterWaitMs).sort((a, b) => a - b);
    // The first window's two waited less than the next window's by at least half a window.
    expect(waits[2]! - waits[1]!).toBeGreaterThanOrEqual(200);
    expect(waits[4]).toBeGreaterThanOrEqual(790);
    const snapshot = await reader.read();
    const histogram = snapshot.histograms(M.limiterWait, { 'llm.upstream': t.name })[0];
    expect((histogram?.value as { count: number }).count).toBe(5);
  });

  it('keeps a waiting call the time an attempt takes: none is sent only to time out', async () => {
    sim.configure({ latencyMs: 100 });
    const t = await boot({ rpm: 2, windowMs: 400 });
    // Two calls show how long an attempt takes here (about 100 ms); then their window passes.
    await Promise.all([t.llm.chat({ messages: say('a') }), t.llm.chat({ messages: say('b') })]);
    await sleep(450);
    const sent = sim.requests.length;
    // Two go at once, two wait a window (about 404 ms), two would wait two windows (about
    // 808 ms): within their 870 ms deadline, but their attempts would end past it.
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.llm.chat({ messages: say(`c${i}`) }, { deadlineMs: 870 }).then(
          () => 'answered',
          (error: LlmError) => `${error.kind} ${error.providerCode ?? ''}`.trim(),
        ),
      ),
    );
    expect(outcomes.sort()).toEqual([
      'answered',
      'answered',
      'answered',
      'answered',
      'rate_limited local_rate_limit',
      'rate_limited local_rate_limit',
    ]);
    // Every request that reached the provider was answered: none was cut by the deadline.
    expect(sim.requests.slice(sent).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('a collection right after a call sees its limiter wait (recorded after the answer)', async () => {
    const t = await boot({ rpm: 100 });
    await t.llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    // No turn of the event loop since the answer: the wait is still queued, and the collection
    // hands it on before it reads.
    const histogram = (await reader.read()).histograms(M.limiterWait, { 'llm.upstream': t.name });
    expect((histogram[0]?.value as { count: number }).count).toBe(1);
  });

  it('serves calls in order of arrival, not of attempts: a retry goes ahead of calls that came after it', async () => {
    const t = await boot({ rpm: 1, windowMs: 300 });
    // The provider refuses the first attempt; its retry comes back to the limiter after 20 ms.
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '20' } }]);
    const first = t.llm.chat({ messages: say('a') });
    await sleep(5);
    const later = [t.llm.chat({ messages: say('b') }), t.llm.chat({ messages: say('c') })];
    const results = await Promise.all([first, ...later]);
    expect(results.map((r) => r.metadata.attempts)).toEqual([2, 1, 1]);
    expect(sim.requests.map((r) => textOf(r.body))).toEqual(['a', 'a', 'b', 'c']);
  });

  it('fails at once with a typed rate_limited error when the wait would pass the deadline', async () => {
    const t = await boot({ rpm: 1, windowMs: 1000 });
    await t.llm.chat({ messages: say('first') });
    await expectRefusedAtOnceOverDeadline(
      () => t.llm.chat({ messages: say('second') }, { deadlineMs: 600 }),
      t.name,
      600,
    );
    expect(sim.requests).toHaveLength(1);
    const snapshot = await reader.read();
    expect(
      snapshot.sum(M.limiterRejections, {
        'llm.upstream': t.name,
        'llm.limiter.reason': 'deadline',
      }),
    ).toBe(1);
  });

  it('rejects at once when the wait queue is full, and serves the queued call', async () => {
    const t = await boot({ rpm: 1, windowMs: 300, maxQueue: 1 });
    await t.llm.chat({ messages: say('a') });
    const queued = t.llm.chat({ messages: say('b') });
    let queuedSettled = false;
    void queued.finally(() => (queuedSettled = true));
    await sleep(20);
    const error = await failureOf<LlmError>(() => t.llm.chat({ messages: say('c') }));
    // Refused while 'b' still waited: it did not queue behind it.
    expect(queuedSettled).toBe(false);
    expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
    expect(error.message).toContain('limits.maxQueue');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    await expect(queued).resolves.toMatchObject({ metadata: { attempts: 1 } });
    expect(sim.requests.map((r) => textOf(r.body))).toEqual(['a', 'b']);
    const snapshot = await reader.read();
    const reason = { 'llm.upstream': t.name, 'llm.limiter.reason': 'queue_full' };
    expect(snapshot.sum(M.limiterRejections, reason)).toBe(1);
  });

  it('lets an aborted call leave the queue at once', async () => {
    // A 2 s window: a call that stayed queued until its turn would end long after the abort.
    const t = await boot({ rpm: 1, windowMs: 2000 });
    await t.llm.chat({ messages: say('a') });
    const controller = new AbortController();
    const waiting = failureOf<LlmError>(() =>
      t.llm.chat({ messages: say('b') }, { signal: controller.signal }),
    );
    await sleep(30);
    expect((await reader.read()).gauge(M.limiterWaiting, { 'llm.upstream': t.name })).toBe(1);
    const abortedAt = Date.now();
    controller.abort();
    expect(await waiting).toMatchObject({ kind: 'cancelled' });
    expect(t.calls.at(-1)!.endedAt! - abortedAt).toBeLessThan(1000);
    expect((await reader.read()).gauge(M.limiterWaiting, { 'llm.upstream': t.name })).toBe(0);
    // Its place is free: the next call goes first once room frees.
    await t.llm.chat({ messages: say('c') });
    expect(sim.requests.map((r) => textOf(r.body))).toEqual(['a', 'c']);
  });

  it("holds the budget for a 429's Retry-After when the provider sends no remaining/reset pair (Azure), for every call", async () => {
    // A budget set above what the provider grants: its 429 says only how long to wait (past the
    // window's guard, 500 ms: a shorter hint is taken for the window's edge, see atWindowEdge).
    const t = await boot(
      { rpm: 6000 },
      { retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 10, maxServerHintMs: 2000 } },
    );
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '700' } }]);
    const first = t.llm.chat({ messages: say('a') });
    await eventually(() => sim.requests.length === 1);
    // Another caller, after the 429: it waits for the provider's reset too, not only the 429's
    // own retry (before: sent at once, into the provider's next 429).
    await sleep(50);
    await t.llm.chat({ messages: say('b') });
    await first;
    const [refused, ...after] = sim.requests;
    expect(after).toHaveLength(2);
    for (const request of after) expect(request.at - refused!.at).toBeGreaterThanOrEqual(680);
  });

  it('spends budget on retries too', async () => {
    const t = await boot({ rpm: 2, windowMs: 1000 });
    sim.script([{ type: 'error', status: 503 }]);
    const first = await t.llm.chat({ messages: say('a') });
    expect(first.metadata.attempts).toBe(2);
    const error = await failureOf<LlmError>(() =>
      t.llm.chat({ messages: say('b') }, { deadlineMs: 200 }),
    );
    expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
  });

  it('keeps a model with its own budget apart from the upstream shared one', async () => {
    const t = await boot({ rpm: 1, windowMs: 1000, models: { 'gpt-4o': { rpm: 1 } } });
    await t.llm.chat({ messages: say('shared'), model: 'gpt-4o-mini' });
    await t.llm.chat({ messages: say('own'), model: 'gpt-4o' });
    const shared = await failureOf<LlmError>(() =>
      t.llm.chat({ messages: say('x'), model: 'gpt-4o-mini' }, { deadlineMs: 200 }),
    );
    expect(shared.message).toContain(`budget of upstream '${t.name}' (`);
    const own = await failureOf<LlmError>(() =>
      t.llm.chat({ messages: say('y'), model: 'gpt-4o' }, { deadlineMs: 200 }),
    );
    expect(own.message).toContain(`budget of upstream '${t.name}' model 'gpt-4o'`);
    expect(sim.requests).toHaveLength(2);
  });

  describe('tokens', () => {
    const request = { messages: say('Hi'), max_tokens: 400 };

    it('refunds what the estimate held beyond the real usage', async () => {
      const t = await boot({ tpm: 1000, windowMs: 2000 });
      const usage = { prompt_tokens: 5, completion_tokens: 5 };
      sim.script([{ type: 'ok', usage, repeat: 3 }]);
      await t.llm.chat(request);
      await t.llm.chat(request);
      // Three estimates (about 408 each) would not fit 1000; three real usages of 10 do.
      // A third call that had to wait for the 2 s window would be refused at its 200 ms deadline.
      const third = await t.llm.chat(request, { deadlineMs: 200 });
      expect(third.metadata.attempts).toBe(1);
      expect(sim.requests).toHaveLength(3);
    });

    it.each<[string, LlmLimitOptions, Partial<LlmUpstreamOptions>]>([
      ['an Azure provider keeps it', {}, { provider: 'azure.ai.openai' }],
      ['refundUnusedTokens: false keeps it', { refundUnusedTokens: false }, {}],
    ])(
      'the estimate is what the provider counts when %s: the unused part is not refunded',
      async (_case, limits, overrides) => {
        const t = await boot({ tpm: 1000, windowMs: 2000, ...limits }, overrides);
        const usage = { prompt_tokens: 5, completion_tokens: 5 };
        sim.script([{ type: 'ok', usage, repeat: 3 }]);
        await t.llm.chat(request);
        await t.llm.chat(request);
        // Two estimates of about 408 stay counted: a third does not fit 1000 before the window.
        const error = await failureOf<LlmError>(() => t.llm.chat(request, { deadlineMs: 200 }));
        expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
        expect(sim.requests).toHaveLength(2);
      },
    );

    it('charges the real usage beyond the estimate', async () => {
      const t = await boot({ tpm: 1000, windowMs: 2000 });
      sim.script([{ type: 'ok', usage: { prompt_tokens: 10, completion_tokens: 690 } }]);
      await t.llm.chat(request);
      // 700 used: another estimate of about 408 no longer fits, though two estimates would.
      const error = await failureOf<LlmError>(() => t.llm.chat(request, { deadlineMs: 300 }));
      expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
      expect(error.message).toContain('1000 tokens per 2.0 s window');
      expect(error.message).toContain('limits.tpm');
    });

    it('reconciles a stream when its usage arrives with the last chunk', async () => {
      const t = await boot({ tpm: 1000, windowMs: 2000 });
      for (let i = 0; i < 2; i++) {
        const stream = t.llm.chatStream({ ...request, stream_options: { include_usage: true } });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toContain('Simulated reply');
      }
      await eventually(() => t.calls.length === 2);
      const third = await t.llm.chat(request, { deadlineMs: 200 });
      expect(third.metadata.attempts).toBe(1);
    });

    it('rejects a call larger than the whole budget at once, saying what to lower', async () => {
      const t = await boot({ tpm: 500 });
      const error = await failureOf<LlmError>(() =>
        t.llm.chat({ messages: say('Hi'), max_tokens: 1000 }),
      );
      expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: undefined });
      expect(error.message).toContain('Lower max_tokens');
      expect(sim.requests).toHaveLength(0);
      const reason = { 'llm.upstream': t.name, 'llm.limiter.reason': 'too_large' };
      expect((await reader.read()).sum(M.limiterRejections, reason)).toBe(1);
    });
  });

  describe("the provider's x-ratelimit headers", () => {
    it('hold the next call until the reset when the provider says none remain', async () => {
      const t = await boot({ rpm: 100, windowMs: 1000 });
      sim.script([
        {
          type: 'ok',
          headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '300ms' },
        },
      ]);
      await t.llm.chat({ messages: say('a') });
      const started = Date.now();
      await t.llm.chat({ messages: say('b') });
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(t.calls[1]!.attempts[0]!.limiterWaitMs).toBeGreaterThanOrEqual(280);
      const [a, b] = sim.requests;
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(290);
    });

    it('of a call answered where its attempt ended (chatAnswering) hold a call that comes on the next turn', async () => {
      const t = await boot({ rpm: 100, windowMs: 1000 });
      const none = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '300ms' };
      sim.script([{ type: 'ok', headers: none }]);
      let started = 0;
      const next = new Promise((resolve, reject) => {
        void t.llm.chatAnswering({ messages: say('a') }, {}, () => {
          // The next request's callback, on the first turn after the answer: the answered call's
          // headers (recorded after the answer) must be the limiter's by then.
          setImmediate(() => {
            started = Date.now();
            t.llm.chat({ messages: say('b') }).then(resolve, reject);
          });
        });
      });
      await next;
      // Held until the reset (300 ms after the provider's answer), not admitted at once.
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const [a, b] = sim.requests;
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(290);
      // The answered attempt's record carries the provider's headers as received.
      expect(t.calls[0]!.attempts[0]!.responseHeaders).toMatchObject(none);
      expect(t.calls[0]!.attempts[0]!.upstreamRequestId).toMatch(/^req_/);
      expect(t.calls[1]!.attempts[0]!.limiterWaitMs).toBeGreaterThanOrEqual(250);
    });

    it('leave the budget alone when the provider has more room than the local view', async () => {
      const t = await boot({ rpm: 100, windowMs: 1000 });
      const plenty = { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-reset-requests': '1s' };
      sim.script([{ type: 'ok', headers: plenty }]);
      await t.llm.chat({ messages: say('a') });
      // Held until the reset (1 s), it would be refused at once at this 500 ms deadline.
      const b = await t.llm.chat({ messages: say('b') }, { deadlineMs: 500 });
      expect(b.metadata.attempts).toBe(1);
      expect(sim.requests).toHaveLength(2);
    });

    it('on a 429 make the retry wait for the tokens reset', async () => {
      const t = await boot({ tpm: 100_000, windowMs: 1000 });
      const headers = {
        'retry-after-ms': '10',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '250ms',
      };
      sim.script([{ type: 'error', status: 429, headers }]);
      const result = await t.llm.chat({ messages: say('a') });
      expect(result.metadata.attempts).toBe(2);
      const [first, retry] = sim.requests;
      expect(retry!.at - first!.at).toBeGreaterThanOrEqual(240);
    });
  });

  describe('adaptive rate', () => {
    const burst = (t: Awaited<ReturnType<typeof boot>>, n: number) =>
      Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          t.llm.chat({ messages: say(`burst ${i}`) }, { deadlineMs: 150 }),
        ),
      );
    const rate = async (upstream: string) =>
      (await reader.read()).gauge(M.limiterEffectiveRate, {
        'llm.upstream': upstream,
        'llm.limiter.dimension': 'requests',
      });

    it('takes 5 % off the rate after upstream 429s and gives it back after a quiet period of success', async () => {
      const t = await boot({ rpm: 200, windowMs: 6000 }, { retry: { maxRetries: 0 } });
      // 200 per 6 s is 2000 per minute.
      expect(await rate(t.name)).toBe(2000);
      // Two 429s at once count once per period (100 ms, a sixtieth of the window).
      sim.script([{ type: 'error', status: 429, repeat: 2, headers: { 'retry-after-ms': '200' } }]);
      const throttled = await Promise.all(
        [1, 2].map((i) => failureOf(() => t.llm.chat({ messages: say(`throttled ${i}`) }))),
      );
      expect(throttled.map((e) => e.kind)).toEqual(['rate_limited', 'rate_limited']);
      expect(await rate(t.name)).toBe(1900);
      // One success after a quiet period adds the 5 % back.
      await sleep(110);
      await t.llm.chat({ messages: say('steady') });
      expect(await rate(t.name)).toBe(2000);
    });

    it('leaves the rate alone for a 429 at the window edge: its wait hint is within the guard', async () => {
      // The guard of a 600 ms window is 6 ms: the provider's window frees in 2 ms, so the
      // provider merely counted an earlier request a moment later than this process did.
      const t = await boot({ rpm: 20, windowMs: 600 });
      sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '2' } }]);
      const result = await t.llm.chat({ messages: say('edge') });
      expect(result.metadata.attempts).toBe(2);
      expect(await rate(t.name)).toBe(2000);
    });

    it('keeps the configured rate with adaptive: false', async () => {
      const t = await boot({ rpm: 20, windowMs: 600, adaptive: false });
      sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '20' } }]);
      await t.llm.chat({ messages: say('throttled') });
      expect(await rate(t.name)).toBe(2000);
      const results = await burst(t, 12);
      // None was held or refused by the local budget (a loaded machine may still miss the 150 ms
      // deadline on its own: that is not the limiter's doing).
      const refused = results.filter(
        (r) =>
          r.status === 'rejected' && (r.reason as LlmError).providerCode === 'local_rate_limit',
      );
      expect(refused).toEqual([]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    });
  });
});
