import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { setTimeout as sleep } from 'node:timers/promises';
import { LLM_METRICS as M } from '../src/llm/observability/llm-metric.instruments';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { FAST_POLICIES, failureOf, startLlmApp } from './support/llm-test-app';
import { say } from './support/rate-limiter.checks';
import { TestMetricReader } from './support/test-metric-reader';

// Registered before any module boots: the limiter takes its meter when it is created.
const reader = new TestMetricReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

let upstreams = 0;

/**
 * An upstream without a budget (the default) that answers 429 with a wait: the other calls to it
 * wait for the end of that wait instead of being sent into a provider that said it would refuse
 * them.
 */
describe('429 hold without a budget', () => {
  let sim: UpstreamSimulator;
  const apps: Array<{ close(): Promise<void> }> = [];

  async function boot(overrides: Record<string, unknown> = {}) {
    const name = `h${++upstreams}`;
    const t = await startLlmApp(sim.baseUrl, { name, ...overrides });
    apps.push(t);
    const recorder = recordCalls(t.app);
    return { ...t, name, calls: recorder.calls, log: recorder.log };
  }

  /** Resolves once this process has the first call's 429 in hand, not only the simulator sent it. */
  async function refused(t: { log: string[] }): Promise<number> {
    await eventually(() => expect(t.log).toContain('attempt 1 rate_limited 429'));
    expect(sim.requests[0]?.status).toBe(429);
    return sim.requests[0]!.at;
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

  it('holds the other calls to that model until the wait is over, then sends each once', async () => {
    const t = await boot();
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '300' } }]);
    const first = t.llm.chat({ messages: say('a') });
    const refusedAt = await refused(t);
    const others = await Promise.all(['b', 'c', 'd'].map((m) => t.llm.chat({ messages: say(m) })));
    await first;
    expect(others).toHaveLength(3);
    // One 429, then four answers, none before the wait the provider asked for was over.
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200, 200, 200, 200]);
    for (const request of sim.requests.slice(1)) {
      expect(request.at - refusedAt).toBeGreaterThanOrEqual(295);
    }
    // The three newcomers went in one attempt each, and their wait is the limiter's.
    await eventually(() => expect(t.calls).toHaveLength(4));
    const newcomers = t.calls.filter((c) => c.attempts.length === 1);
    expect(newcomers).toHaveLength(3);
    for (const call of newcomers) {
      expect(call.attempts[0]!.limiterWaitMs).toBeGreaterThanOrEqual(250);
    }
    const histogram = (await reader.read()).histograms(M.limiterWait, { 'llm.upstream': t.name });
    expect((histogram[0]?.value as { count: number }).count).toBe(3);
  });

  it('held calls released into a full bulkhead wait for a slot instead of failing as bulkhead_full', async () => {
    // One call at a time, no queue: the four calls released together cannot all go in.
    const t = await boot({ bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    sim.script([
      { type: 'error', status: 429, headers: { 'retry-after-ms': '200' } },
      { type: 'ok', latencyMs: 30, repeat: 4 },
    ]);
    const first = t.llm.chat({ messages: say('a') });
    await refused(t);
    const others = ['b', 'c', 'd'].map((m) => t.llm.chat({ messages: say(m) }));
    const answers = await Promise.allSettled([first, ...others]);
    expect(answers.map((answer) => answer.status)).toEqual(Array(4).fill('fulfilled'));
    // Sent one after another, each once.
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200, 200, 200, 200]);
  });

  it('a new call meeting a full bulkhead still fails at once', async () => {
    const t = await boot({ bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    sim.script([{ type: 'ok', latencyMs: 200 }]);
    const first = t.llm.chat({ messages: say('a') });
    await eventually(() => sim.requests.length === 1, { what: 'the first call' });
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: say('b') }));
    expect(error.kind).toBe('bulkhead_full');
    expect(error.message).toContain('rejected at once');
    await first;
  });

  it("releases the held calls one per 60 000 / limit ms when the 429 states the provider's requests per minute", async () => {
    const t = await boot();
    // 600 requests per minute: one per 100 ms, as OpenAI's 429 states it.
    const headers = { 'retry-after-ms': '100', 'x-ratelimit-limit-requests': '600' };
    sim.script([{ type: 'error', status: 429, headers }]);
    const first = t.llm.chat({ messages: say('a') });
    const refusedAt = await refused(t);
    await Promise.all(['b', 'c', 'd', 'e'].map((m) => t.llm.chat({ messages: say(m) })));
    await first;
    const arrivals = sim.requests.slice(1).map((r) => r.at - refusedAt);
    expect(arrivals).toHaveLength(5);
    expect(arrivals[0]).toBeGreaterThanOrEqual(95);
    // Five calls (the four held and the refused one's retry), about 100 ms apart, not at once.
    for (let i = 1; i < arrivals.length; i++) {
      expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(85);
    }
    expect(arrivals[4]).toBeLessThan(1000);
  });

  /** When each request after the first 429 reached the simulator, in ms after that 429. */
  function arrivalsAfter(refusedAt: number, from: number): number[] {
    return sim.requests.slice(from).map((r) => r.at - refusedAt);
  }

  it('holds the model when an answer says no request remains, as the 429 it foretells would', async () => {
    const t = await boot();
    // OpenAI counts on every answer: this one used the last request of the minute's 600.
    const exhausted = {
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '400ms',
    };
    sim.script([{ type: 'ok', headers: exhausted }]);
    await t.llm.chat({ messages: say('a') });
    const answeredAt = sim.requests[0]!.at;
    await Promise.all(['b', 'c', 'd'].map((m) => t.llm.chat({ messages: say(m) })));
    const arrivals = arrivalsAfter(answeredAt, 1);
    // Not one 429: one request back after 100 ms (a minute over 600), then one per 100 ms.
    expect(sim.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(arrivals[0]).toBeGreaterThanOrEqual(95);
    for (let i = 1; i < arrivals.length; i++) {
      expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(85);
    }
    await eventually(() => expect(t.calls).toHaveLength(4));
    for (const call of t.calls.slice(1)) expect(call.attempts).toHaveLength(1);
  });

  it('says so when it refuses a call held by an answer, and holds nothing for a reset past the cap', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 2000 } });
    const exhausted = (reset: string) => ({
      type: 'ok' as const,
      headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': reset },
    });
    sim.script([exhausted('1500ms')]);
    await t.llm.chat({ messages: say('a') });
    const error = await failureOf(() => t.llm.chat({ messages: say('b') }, { deadlineMs: 1000 }));
    expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
    // No 429 was ever sent: the message does not say one was.
    expect(error.message).toContain('said on an earlier answer that no request remains');
    expect(error.message).not.toContain('answered 429');
    expect(sim.requests).toHaveLength(1);
    await t.llm.chat({ messages: say('c') }); // once the 1.5 s are over
    // A reset past retry.maxServerHintMs (an hour, here) holds nothing: the next call goes.
    sim.script([exhausted('1h')]);
    await t.llm.chat({ messages: say('d') });
    await t.llm.chat({ messages: say('e') });
    await eventually(() => expect(t.calls).toHaveLength(5));
    expect(t.calls[4]!.attempts[0]!.limiterWaitMs).toBe(0);
  });

  it('holds nothing for an answer that says no request remains without saying when it is back', async () => {
    const t = await boot();
    // Azure OpenAI sends the count alone.
    sim.script([{ type: 'ok', headers: { 'x-ratelimit-remaining-requests': '0' } }]);
    await t.llm.chat({ messages: say('a') });
    await t.llm.chat({ messages: say('b') });
    await eventually(() => expect(t.calls).toHaveLength(2));
    expect(t.calls[1]!.attempts[0]!.limiterWaitMs).toBe(0);
  });

  it("paces by the tokens an average call takes of the provider's stated tokens per minute, when they bind first", async () => {
    const t = await boot();
    await t.llm.chat({ messages: say('a') });
    await eventually(() => expect(t.calls).toHaveLength(1));
    const { inputTokens, outputTokens } = t.calls[0]!.response!;
    const tokens = inputTokens! + outputTokens!;
    // A tokens-per-minute limit that takes a call's tokens every 200 ms, with 6,000 requests per
    // minute (one per 10 ms): the tokens bind.
    const headers = {
      'retry-after-ms': '100',
      'x-ratelimit-limit-requests': '6000',
      'x-ratelimit-limit-tokens': String(tokens * 300),
    };
    sim.script([{ type: 'error', status: 429, headers }]);
    const first = t.llm.chat({ messages: say('a') });
    await eventually(() => expect(t.log).toContain('attempt 1 rate_limited 429'));
    const refusedAt = sim.requests[1]!.at;
    await Promise.all(['b', 'c', 'd'].map((m) => t.llm.chat({ messages: say(m) })));
    await first;
    const arrivals = arrivalsAfter(refusedAt, 2);
    expect(arrivals).toHaveLength(4);
    for (let i = 1; i < arrivals.length; i++) {
      expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(185);
    }
  });

  it('keeps the paced calls in the order they started when a later 429 moves the hold', async () => {
    const t = await boot();
    const paced = { 'retry-after-ms': '100', 'x-ratelimit-limit-requests': '600' };
    sim.script([
      { type: 'error', status: 429, headers: paced },
      { type: 'ok' },
      { type: 'error', status: 429, headers: { 'retry-after-ms': '400' } },
    ]);
    const first = t.llm.chat({ messages: say('a') });
    const refusedAt = await refused(t);
    const rest = ['b', 'c', 'd', 'e', 'f'].map((m) => t.llm.chat({ messages: say(m) }));
    await Promise.all([first, ...rest]);
    const sends = sim.requests.map((r) => ({
      text: (r.body as { messages: { content: string }[] }).messages[0]!.content,
      at: r.at - refusedAt,
      status: r.status,
    }));
    // The first 429 paces the held calls 100 ms apart; the next request sent (whichever call it
    // is) meets a 429 that holds the model 400 ms more.
    expect(sends.map((x) => x.status)).toEqual([429, 200, 429, 200, 200, 200, 200, 200]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(95);
    const refused2 = sends[2]!;
    const after = sends.slice(3);
    // Nothing inside the new hold; then one per 100 ms.
    expect(after[0]!.at - refused2.at).toBeGreaterThanOrEqual(395);
    for (let i = 1; i < after.length; i++) {
      expect(after[i]!.at - after[i - 1]!.at).toBeGreaterThanOrEqual(85);
    }
    // The calls still waiting kept the order they started in; the refused call's retry, which
    // comes back a spread after the hold, takes the next turn when it is back, not a place
    // behind them all (which turn depends on how late its timer fires: on a loaded machine it
    // was the third, so the place is asserted, not the turn).
    const waiting = ['a', 'b', 'c', 'd', 'e', 'f'].filter(
      (x) =>
        x !== refused2.text && !sends.slice(0, 3).some((y) => y.text === x && y.status === 200),
    );
    expect(after.map((x) => x.text).filter((x) => x !== refused2.text)).toEqual(waiting);
    const retryPlace = after.findIndex((x) => x.text === refused2.text);
    expect(retryPlace).toBeGreaterThanOrEqual(0);
    expect(retryPlace).toBeLessThan(after.length - 1);
  });

  it('keeps a tenth of the deadline for the attempt until its upstream was timed', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 2000 } });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '1000' } }]);
    const first = t.llm.chat({ messages: say('a') }, { deadlineMs: 3000 });
    await refused(t);
    // The hold ends about 1 s from now: 50 ms before this call's deadline, less than its tenth.
    const error = await failureOf(() => t.llm.chat({ messages: say('b') }, { deadlineMs: 1050 }));
    // Refused with the hold still ahead of it, not after waiting it out.
    expect(error.retryAfterMs).toBeGreaterThan(900);
    expect(error).toMatchObject({ kind: 'rate_limited', providerCode: 'local_rate_limit' });
    expect(error.message).toContain('too late for an attempt');
    await first;
    expect(JSON.stringify(sim.requests.map((r) => r.body))).not.toContain('"b"');
  });

  it('holds one model only: another model of the upstream goes at once', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 2000 } });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '1000' } }]);
    const first = t.llm.chat({ messages: say('a') });
    await refused(t);
    await t.llm.chat({ messages: say('b'), model: 'gpt-4o' });
    await eventually(() => expect(t.calls.some((c) => c.model === 'gpt-4o')).toBe(true));
    expect(t.calls.find((c) => c.model === 'gpt-4o')!.attempts[0]!.limiterWaitMs).toBe(0);
    await first;
  });

  it('rejects at once, unsent, a call whose deadline ends before the wait does', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 5000 } });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '2000' } }]);
    const first = t.llm
      .chat({ messages: say('a') }, { deadlineMs: 1000 })
      .catch((e: LlmError) => e);
    const refusedAt = await refused(t);
    const error = await failureOf(() => t.llm.chat({ messages: say('b') }, { deadlineMs: 1000 }));
    // Before the hold's end (2 s after the 429), and before this call's own 1 s deadline.
    expect(Date.now() - refusedAt).toBeLessThan(1000);
    expect(error).toMatchObject({
      kind: 'rate_limited',
      providerCode: 'local_rate_limit',
      retryable: false,
      upstream: t.name,
      model: 'gpt-4o-mini',
    });
    expect(error.retryAfterMs).toBeGreaterThan(1800);
    expect(error.retryAfterMs).toBeLessThanOrEqual(2000);
    expect(error.message).toContain('answered 429 to an earlier call and asked to wait');
    expect(await first).toMatchObject({ kind: 'deadline_exceeded' });
    expect(sim.requests).toHaveLength(1);
    const snapshot = await reader.read();
    const reason = { 'llm.upstream': t.name, 'llm.limiter.reason': 'upstream_hold' };
    expect(snapshot.sum(M.limiterRejections, reason)).toBe(1);
  });

  it("releases a held call at once on the caller's abort", async () => {
    const t = await boot();
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '450' } }]);
    const first = t.llm.chat({ messages: say('a') }).catch((e: LlmError) => e);
    const refusedAt = await refused(t);
    const controller = new AbortController();
    const held = t.llm.chat({ messages: say('b') }, { signal: controller.signal });
    await sleep(50);
    controller.abort();
    expect((await failureOf(() => held)).kind).toBe('cancelled');
    const abortedAt = Date.now();
    expect(sim.requests).toHaveLength(1);
    await first;
    // Released before the hold would have let it go: ahead of the refused call's own retry,
    // which waited out the 450 ms hold (an order, not a wall-clock bound).
    const retry = sim.requests[1]!;
    expect(retry.at - refusedAt).toBeGreaterThanOrEqual(445);
    expect(abortedAt).toBeLessThan(retry.at);
  });

  it('holds no longer than retry.maxServerHintMs', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 200 } });
    sim.script([
      {
        type: 'error',
        status: 429,
        headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s' },
      },
    ]);
    const first = t.llm.chat({ messages: say('a') });
    await refused(t);
    const started = Date.now();
    await t.llm.chat({ messages: say('b') });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(1000);
    await first;
  });

  it('holds a model without a budget when other models of the upstream have one', async () => {
    const t = await boot({ limits: { models: { 'gpt-4o': { rpm: 100 } } } });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '300' } }]);
    const first = t.llm.chat({ messages: say('a') });
    const refusedAt = await refused(t);
    await t.llm.chat({ messages: say('b') });
    expect(sim.requests[1]!.at - refusedAt).toBeGreaterThanOrEqual(295);
    await first;
  });

  it('keeps a waiting call held when a later 429 extends the hold', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 2000 } });
    const long = { 'retry-after-ms': '600' };
    // The first request sent is answered late with the longer wait; the second at once.
    sim.script([
      { type: 'error', status: 429, headers: long, latencyMs: 150 },
      { type: 'error', status: 429, headers: { 'retry-after-ms': '200' } },
    ]);
    const slow = t.llm.chat({ messages: say('slow') });
    await eventually(() => expect(sim.requests).toHaveLength(1));
    const fast = t.llm.chat({ messages: say('fast') });
    await eventually(() => expect(t.log).toContain('attempt 1 rate_limited 429'));
    const held = t.llm.chat({ messages: say('held') });
    await Promise.all([slow, fast, held]);
    const sentAt = (text: string) =>
      sim.requests.filter((r) => JSON.stringify(r.body).includes(`"${text}"`)).map((r) => r.at);
    const [slowAt] = sentAt('slow');
    // Its 429 came about 150 ms after it was sent and asked for 600 ms more.
    expect(sentAt('held')[0]! - slowAt!).toBeGreaterThanOrEqual(740);
  });

  it('holds nothing for a Retry-After past retry.maxServerHintMs: no call waits that long', async () => {
    const t = await boot({ retry: { ...FAST_POLICIES.retry, maxServerHintMs: 1000 } });
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after': '2' } }]);
    const first = await failureOf(() => t.llm.chat({ messages: say('a') }));
    expect(first).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2000 });
    // Sent at once: the provider's answer, not a wait of the cap, tells this call (here, one
    // wrong 429 of a simulator: a day's Retry-After would otherwise stop every call).
    await t.llm.chat({ messages: say('b') });
    await eventually(() => expect(t.calls).toHaveLength(2));
    expect(t.calls[1]!.attempts[0]!.limiterWaitMs).toBe(0);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('ends a held call as shutting_down, unsent, when the module shuts down', async () => {
    const t = await boot();
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '400' } }]);
    const first = t.llm.chat({ messages: say('a') }).catch((e: LlmError) => e);
    await refused(t);
    const held = failureOf(() => t.llm.chat({ messages: say('b') }));
    await sleep(20);
    await apps.splice(0)[0]!.close();
    expect(await held).toMatchObject({ kind: 'shutting_down' });
    await first;
    expect(JSON.stringify(sim.requests.map((r) => r.body))).not.toContain('"b"');
  });
});
