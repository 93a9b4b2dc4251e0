import { type LlmUpstreamOptions } from '../src/llm/llm-module.options';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { buildCallEvent } from '../src/llm/observability/events/llm-call.event';
import { callEndAttributes } from '../src/llm/observability/llm-span.attributes';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import {
  failureOf,
  FAST_POLICIES,
  type LlmTestApp,
  startLlmApp,
  USER,
} from './support/llm-test-app';

// Opens after 2 failures, lets a probe through 150 ms later.
const HALF_OPEN_MS = 150;

describe('breaker.maxProbeWaitMs: calls wait for an open circuit instead of failing at once', () => {
  let sim: UpstreamSimulator;
  const apps: LlmTestApp[] = [];

  async function boot(maxProbeWaitMs: number, overrides: Partial<LlmUpstreamOptions> = {}) {
    const t = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 2, maxBreakMs: HALF_OPEN_MS, maxProbeWaitMs },
      ...overrides,
    });
    apps.push(t);
    return { ...t, recorder: recordCalls(t.app) };
  }

  /** Two 500s open the circuit; resolves with when it opened. */
  async function openTheCircuit(t: LlmTestApp): Promise<number> {
    sim.script([{ type: 'error', status: 500, repeat: 2 }]);
    for (let i = 0; i < 2; i++) await failureOf(() => t.llm.chat({ messages: USER }));
    expect(t.policies.snapshots()[0]?.state).toBe('open');
    return Date.now();
  }

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => sim.close());

  it('a call that meets the open circuit waits for the probe, is the probe, and succeeds', async () => {
    const t = await boot(1_000);
    const openedAt = await openTheCircuit(t);
    sim.script([{ type: 'ok', content: 'after the outage' }]);
    const { completion, metadata } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('after the outage');
    expect(metadata.attempts).toBe(1);
    // It reached the upstream only once the open time had passed.
    const probe = sim.requests.at(-1)!;
    expect(probe.at - openedAt).toBeGreaterThanOrEqual(HALF_OPEN_MS - 10);
    expect(sim.requests).toHaveLength(3);
    expect(t.policies.snapshots()[0]?.state).toBe('closed');
    const call = t.recorder.last;
    expect(call.breakerWaitMs).toBeGreaterThanOrEqual(HALF_OPEN_MS - 20);
    // The recorded wait is all of the time the call spent before its one attempt went out.
    expect(call.breakerWaitMs).toBeLessThanOrEqual(call.attempts[0]!.startedAt - call.startedAt);
    // The wait is on the call span and in the business event.
    expect(callEndAttributes(call)['llm.breaker.wait_ms']).toBe(call.breakerWaitMs);
    const event = buildCallEvent(call, { serviceName: 'test', dataset: 'llm.calls' });
    expect(event['llm.breaker.wait_ms']).toBe(call.breakerWaitMs);
  });

  it('many waiting calls: one probe goes first, the rest follow once it closed the circuit', async () => {
    const t = await boot(1_000);
    const openedAt = await openTheCircuit(t);
    sim.script([{ type: 'ok', latencyMs: 30 }]);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.llm.chat({ messages: USER })),
    );
    expect(results.map((r) => r.metadata.attempts)).toEqual([1, 1, 1, 1, 1]);
    // 2 failures, then the probe, then the 4 others, none before the probe had answered.
    const after = sim.requests.slice(2);
    expect(after).toHaveLength(5);
    const probe = after.reduce((a, b) => (a.at <= b.at ? a : b));
    expect(probe.at - openedAt).toBeGreaterThanOrEqual(HALF_OPEN_MS - 10);
    for (const request of after.filter((r) => r !== probe)) {
      expect(request.at - probe.at).toBeGreaterThanOrEqual(25);
    }
  });

  it('once the outage outlasts maxProbeWaitMs a bad probe doubles the break: waiters fail with circuit_open when the next probe is due beyond it', async () => {
    // Breaks of 150 ms while the outage is younger than 210 ms, then 300 ms: not waited for.
    const t = await boot(HALF_OPEN_MS + 60, {
      breaker: {
        consecutiveFailures: 2,
        minBreakMs: HALF_OPEN_MS,
        maxBreakMs: 10 * HALF_OPEN_MS,
        maxProbeWaitMs: HALF_OPEN_MS + 60,
      },
    });
    await openTheCircuit(t);
    sim.script([{ type: 'error', status: 503, latencyMs: 20, repeat: 5 }]);
    const outcomes = await Promise.all(
      Array.from({ length: 3 }, () => failureOf(() => t.llm.chat({ messages: USER }))),
    );
    // Usually two of them are the probes of the two short breaks and the third gives up on the
    // long one; on a loaded machine the outage may pass 210 ms before the second break is set,
    // so only the first waiter probes. Either way: the first waiter probed, at least one gave up
    // with circuit_open on a break beyond maxProbeWaitMs, and each probe was one request.
    const probes = outcomes.filter((e) => e.kind === 'overloaded');
    const refused = outcomes.filter((e) => e.kind === 'circuit_open');
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(probes.length + refused.length).toBe(3);
    for (const error of refused) {
      expect(error).toMatchObject({ attempts: 0 });
      expect(error.retryAfterMs).toBeGreaterThan(HALF_OPEN_MS);
    }
    expect(sim.requests).toHaveLength(2 + probes.length);
  });

  it('fails at once when the open circuit would outlast maxProbeWaitMs', async () => {
    const t = await boot(50);
    await openTheCircuit(t);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'circuit_open', attempts: 0, retryable: false });
    expect(error.retryAfterMs).toBeGreaterThan(50);
    // It did not wait at all (the call records every wait for the circuit) and sent nothing.
    expect(t.recorder.last.breakerWaitMs).toBe(0);
    expect(sim.requests).toHaveLength(2);
  });

  it('fails at once when the wait would pass the call deadline', async () => {
    const t = await boot(1_000);
    await openTheCircuit(t);
    const error: LlmError = await failureOf(() =>
      t.llm.chat({ messages: USER }, { deadlineMs: 60 }),
    );
    expect(error.kind).toBe('circuit_open');
    expect(t.recorder.last.breakerWaitMs).toBe(0);
    expect(sim.requests).toHaveLength(2);
  });

  it('a probe in flight that does not answer: calls wait for it within maxProbeWaitMs, then fail with circuit_open, unsent', async () => {
    const t = await boot(300, { timeouts: { ...FAST_POLICIES.timeouts, deadlineMs: 5_000 } });
    await openTheCircuit(t);
    await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 20));
    // The upstream now takes requests and never answers: the probe hangs.
    sim.script([{ type: 'hang' }]);
    const leaving = new AbortController();
    const probe = failureOf(() => t.llm.chat({ messages: USER }, { signal: leaving.signal }));
    await eventually(() => expect(sim.requests).toHaveLength(3));
    expect(t.policies.snapshots()[0]?.state).toBe('half_open');
    // Before: cockatiel held this call until the probe answered, here its whole 5 s deadline.
    const waiter: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(waiter).toMatchObject({ kind: 'circuit_open', retryable: false });
    expect(waiter.message).toContain('is half-open: its probe has had no answer for');
    expect(waiter.retryAfterMs).toBe(HALF_OPEN_MS);
    expect(t.recorder.last.breakerWaitMs).toBeGreaterThan(0);
    // A call that comes once the probe has been out for maxProbeWaitMs fails without waiting.
    const late: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(late.kind).toBe('circuit_open');
    expect(t.recorder.last.breakerWaitMs).toBe(0);
    // Neither reached the upstream.
    expect(sim.requests).toHaveLength(3);
    leaving.abort();
    expect((await probe).kind).toBe('cancelled');
  });

  it('a probe in flight that answers: the calls waiting for it go right after it', async () => {
    const t = await boot(1_000, { timeouts: { ...FAST_POLICIES.timeouts, deadlineMs: 5_000 } });
    await openTheCircuit(t);
    await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 20));
    sim.script([{ type: 'ok', latencyMs: 200 }]);
    const probe = t.llm.chat({ messages: USER });
    await eventually(() => expect(sim.requests).toHaveLength(3));
    const waiters = await Promise.all([
      t.llm.chat({ messages: USER }),
      t.llm.chat({ messages: USER }),
    ]);
    await probe;
    expect(waiters.map((w) => w.metadata.attempts)).toEqual([1, 1]);
    const [probeRequest, ...after] = sim.requests.slice(2);
    for (const request of after) {
      expect(request.at - probeRequest!.at).toBeGreaterThanOrEqual(190);
    }
    expect(t.policies.snapshots()[0]?.state).toBe('closed');
  });

  it("the caller's abort ends the wait at once", async () => {
    // A 2 s break, waited for: a wait the abort did not end would outlast it and send the probe.
    const t = await boot(2_500, {
      breaker: { consecutiveFailures: 2, maxBreakMs: 2_000, maxProbeWaitMs: 2_500 },
      timeouts: { ...FAST_POLICIES.timeouts, deadlineMs: 5_000 },
    });
    await openTheCircuit(t);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error: LlmError = await failureOf(() =>
      t.llm.chat({ messages: USER }, { signal: controller.signal }),
    );
    expect(error.kind).toBe('cancelled');
    // It was waiting for the circuit, and stopped while the circuit was still open.
    expect(t.recorder.last.breakerWaitMs).toBeGreaterThan(0);
    expect(t.policies.snapshots()[0]?.state).toBe('open');
    expect(sim.requests).toHaveLength(2);
  });

  it.each([
    ['its caller aborts it', 'cancelled'],
    ['its deadline passes while the upstream hangs', 'deadline_exceeded'],
  ] as const)(
    'a half-open probe that ends without an answer because %s leaves the circuit open',
    async (_, kind) => {
      const t = await boot(0);
      await openTheCircuit(t);
      await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 20));
      // The upstream is still down: it takes the probe and never answers.
      sim.script([{ type: 'hang' }]);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const probe: LlmError = await failureOf(() =>
        t.llm.chat(
          { messages: USER },
          kind === 'cancelled' ? { signal: controller.signal } : { deadlineMs: 50 },
        ),
      );
      expect(probe.kind).toBe(kind);
      expect(sim.requests).toHaveLength(3);
      // Before: cockatiel took the probe's error as a success and closed the circuit, and every
      // call went through to the upstream still down.
      // (Once the attempt below the released caller has ended.)
      await eventually(() => expect(t.policies.snapshots()[0]?.state).toBe('open'));
      const next: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(next.kind).toBe('circuit_open');
      expect(sim.requests).toHaveLength(3);
    },
  );

  it('a call that entered while closed and is cancelled during a good probe does not reopen the circuit', async () => {
    const t = await boot(0);
    sim.script([
      { type: 'hang' }, // the call below, started while the circuit is closed
      { type: 'error', status: 500, repeat: 2 }, // two failures open the circuit
      { type: 'ok', content: 'probe', latencyMs: 300 }, // the probe, slow and good
    ]);
    const controller = new AbortController();
    const early = failureOf(() => t.llm.chat({ messages: USER }, { signal: controller.signal }));
    await eventually(() => sim.requests.length === 1);
    for (let i = 0; i < 2; i++) await failureOf(() => t.llm.chat({ messages: USER }));
    expect(t.policies.snapshots()[0]?.state).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 20));
    const probe = t.llm.chat({ messages: USER });
    await eventually(() => sim.requests.length === 4);
    controller.abort(); // while the probe is in flight
    expect((await early).kind).toBe('cancelled');
    expect((await probe).completion.choices[0]?.message.content).toBe('probe');
    // Before: the cancelled call was counted on cockatiel's closed path, whose count was still
    // at the threshold, and the circuit reopened over the probe's success.
    await eventually(() => expect(t.policies.snapshots()[0]?.state).toBe('closed'));
  });

  it('with a fallback left, the call moves on at once instead of waiting', async () => {
    const t = await boot(1_000, { fallbacks: { 'gpt-4o-mini': [{ model: 'gpt-4o' }] } });
    // Each call fails on gpt-4o-mini, then gpt-4o answers: the second failure opens the circuit.
    const failThenAnswer = { type: 'error', status: 500 } as const;
    sim.script([failThenAnswer, { type: 'ok' }, failThenAnswer, { type: 'ok' }]);
    for (let i = 0; i < 2; i++) await t.llm.chat({ messages: USER });
    expect(t.policies.snapshots().find((b) => b.model === 'gpt-4o-mini')?.state).toBe('open');
    const { metadata } = await t.llm.chat({ messages: USER });
    expect(metadata.model).toBe('gpt-4o');
    // It moved on because of the open circuit, without waiting for it.
    const call = t.recorder.last;
    expect(call.fallbacks.map((hop) => [hop.fromModel, hop.reason])).toEqual([
      ['gpt-4o-mini', 'circuit_open'],
    ]);
    expect(call.breakerWaitMs).toBe(0);
  });

  it('with maxProbeWaitMs 0 (the classic breaker) the open circuit rejects at once', async () => {
    const t = await boot(0);
    await openTheCircuit(t);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error.kind).toBe('circuit_open');
    expect(t.recorder.last.breakerWaitMs).toBe(0);
    expect(sim.requests).toHaveLength(2);
  });
});
