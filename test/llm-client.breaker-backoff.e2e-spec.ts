import { setTimeout as sleep } from 'node:timers/promises';
import { type LlmBreakerOptions } from '../src/llm/llm-module.options';
import { LLM_DEFAULTS } from '../src/llm/options/llm.defaults';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';
import { recordCalls } from './support/call-recorder';

// The shape of the defaults (0.25 s breaks for the first 5 s, then doubling to 30 s; calls wait for a
// probe due within 5 s), scaled down.
const FIRST_MS = 100;
const MAX_MS = 400;

describe('breaker: short first break, doubled by each failed probe, waited for when due soon', () => {
  let sim: UpstreamSimulator;
  const apps: LlmTestApp[] = [];

  async function boot(breaker: Partial<LlmBreakerOptions>, maxRetries = 0) {
    const t = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries, baseDelayMs: 1, maxDelayMs: 2 },
      breaker: {
        consecutiveFailures: 2,
        minBreakMs: FIRST_MS,
        maxBreakMs: MAX_MS,
        ...breaker,
      },
    });
    apps.push(t);
    return { ...t, calls: recordCalls(t.app).calls };
  }

  async function openTheCircuit(t: LlmTestApp): Promise<void> {
    sim.script([{ type: 'error', status: 500, repeat: 2 }]);
    for (let i = 0; i < 2; i++) await failureOf(() => t.llm.chat({ messages: USER }));
  }

  /** A call rejected at once by the open circuit: how long until its probe. */
  async function rejectedFor(t: LlmTestApp): Promise<number> {
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'circuit_open', attempts: 0 });
    return error.retryAfterMs!;
  }

  /** Waits out the break, then sends the probe the simulator answers with `status`. */
  async function probe(t: LlmTestApp, retryAfterMs: number, status?: number): Promise<void> {
    await sleep(retryAfterMs + 5);
    sim.script([status ? { type: 'error', status } : { type: 'ok' }]);
    if (status) await failureOf(() => t.llm.chat({ messages: USER }));
    else await t.llm.chat({ messages: USER });
  }

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => sim.close());

  it('defaults: 0.25 s breaks, doubling once the outage is 5 s old up to 30 s, calls wait for a probe due within 5 s', () => {
    expect(LLM_DEFAULTS.breaker).toEqual({
      consecutiveFailures: 5,
      minBreakMs: 250,
      maxBreakMs: 30_000,
      maxProbeWaitMs: 5_000,
    });
  });

  it('without waiting (maxProbeWaitMs 0) doubles the break with each failed probe up to maxBreakMs, one probe per break, and starts short again after a good probe', async () => {
    const t = await boot({ maxProbeWaitMs: 0 });
    await openTheCircuit(t);
    const breaks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const retryAfterMs = await rejectedFor(t);
      breaks.push(retryAfterMs);
      await probe(t, retryAfterMs, 503);
    }
    // Read right after opening: within a few ms of 100, 200, 400, 400.
    const expected = [FIRST_MS, 2 * FIRST_MS, MAX_MS, MAX_MS];
    breaks.forEach((ms, i) => {
      expect(ms).toBeLessThanOrEqual(expected[i]!);
      expect(ms).toBeGreaterThan(expected[i]! - 50);
    });
    // 2 failures that opened it, then exactly one probe per break; rejected calls sent nothing.
    expect(sim.requests).toHaveLength(2 + 4);
    await probe(t, await rejectedFor(t));
    expect(t.policies.snapshots()[0]?.state).toBe('closed');
    await openTheCircuit(t);
    const again = await rejectedFor(t);
    expect(again).toBeLessThanOrEqual(FIRST_MS);
    expect(again).toBeGreaterThan(FIRST_MS - 50);
  });

  it('a call waits through the short breaks of a young outage, then fails at once when the doubled break is due beyond maxProbeWaitMs', async () => {
    // Breaks of 100 ms while the outage is younger than 250 ms, then 200, then 400: waited for
    // while due within 250 ms. One call: its two failures open the circuit, its retries wait for
    // each probe and are the probe.
    const t = await boot({ maxProbeWaitMs: 250 }, 10);
    sim.script([
      { type: 'error', status: 500, repeat: 2 },
      { type: 'error', status: 503, repeat: 20 },
    ]);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error.kind).toBe('circuit_open');
    expect(error.retryAfterMs).toBeGreaterThan(250);
    const waited = t.calls.at(-1)!;
    // 2 failures, 2 or 3 probes after 100 ms breaks, one after the 200 ms break.
    expect(waited.attemptCount).toBeGreaterThanOrEqual(5);
    expect(waited.attemptCount).toBeLessThanOrEqual(6);
    expect(sim.requests).toHaveLength(waited.attemptCount);
    expect(waited.breakerWaitMs).toBeGreaterThanOrEqual(2 * FIRST_MS + 2 * FIRST_MS - 40);
    // The probe is now 400 ms away: the next call fails at once, without waiting or sending.
    const fast: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(fast).toMatchObject({ kind: 'circuit_open', attempts: 0 });
    expect(t.calls.at(-1)!.breakerWaitMs).toBe(0);
    expect(sim.requests).toHaveLength(waited.attemptCount);
  });

  it('many calls waiting for one probe: a good probe lets them all through, one request each', async () => {
    const t = await boot({ maxProbeWaitMs: 250 });
    await openTheCircuit(t);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.llm.chat({ messages: USER })),
    );
    expect(results.every((r) => r.metadata.attempts === 1)).toBe(true);
    expect(sim.requests).toHaveLength(2 + 10);
    expect(Math.min(...t.calls.slice(-10).map((c) => c.breakerWaitMs))).toBeGreaterThan(
      FIRST_MS / 2,
    );
  });
});

describe('breaker and limiter together', () => {
  it('calls waiting for budget when the circuit opens give it back and do not reach the upstream', async () => {
    const sim = await UpstreamSimulator.start();
    const t = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
      // One call every 10.2 ms: most of the 20 wait for budget when the first two fail.
      limits: { rpm: 600, windowMs: 6000, intervalMs: 100 },
    });
    try {
      sim.script([{ type: 'error', status: 503, repeat: 20 }]);
      const errors = await Promise.all(
        Array.from({ length: 20 }, () => failureOf(() => t.llm.chat({ messages: USER }))),
      );
      const rejected = errors.filter((e) => e.kind === 'circuit_open');
      // Only the calls sent before the circuit opened reached the upstream.
      expect(sim.requests.length).toBe(20 - rejected.length);
      expect(rejected.length).toBeGreaterThanOrEqual(10);
      expect(rejected.every((e) => e.attempts === 0)).toBe(true);
    } finally {
      await t.close();
      await sim.close();
    }
  });
});
