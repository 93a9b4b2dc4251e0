import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';

/** Tells whether `promise` has settled yet (order, not wall-clock time). */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

// maxProbeWaitMs 0: the classic breaker, which rejects at once while open (waiting: breaker-wait suite).
describe('circuit breaker (3 consecutive failures, half-open after 150 ms)', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  const breakerState = () => ({
    effectiveState: () => t.policies.snapshots().find((b) => b.model === 'gpt-4o-mini')?.state,
  });

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
    t = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 3, maxBreakMs: 150, maxProbeWaitMs: 0 },
    });
  });
  afterEach(async () => {
    await t.close();
    await sim.close();
  });

  /** The breaker's log lines for upstream 'sim' while `run` runs, warnings and logs in order. */
  async function circuitLinesDuring(run: () => Promise<void>): Promise<string[]> {
    const lines: string[] = [];
    const keep = (message: unknown) => void lines.push(String(message));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(keep);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(keep);
    try {
      await run();
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
    return lines.filter((line) => line.startsWith("Circuit for upstream 'sim'"));
  }

  async function openTheCircuit(): Promise<void> {
    sim.script([{ type: 'error', status: 500, repeat: 3 }]);
    for (let i = 0; i < 3; i++) await failureOf(() => t.llm.chat({ messages: USER }));
  }

  it('opens after the threshold and rejects without upstream traffic, saying how long', async () => {
    await openTheCircuit();
    expect(breakerState().effectiveState()).toBe('open');
    const before = sim.requests.length;
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'circuit_open', retryable: false, attempts: 0 });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(150);
    expect(error.message).toMatch(
      /open; calls are rejected for (1[0-4]\d|150) ms\. The last failure was 500/,
    );
    expect(sim.requests.length).toBe(before);
  });

  it('logs each transition once: opened (with the last failure), half-open, closed', async () => {
    const circuitLines = await circuitLinesDuring(async () => {
      await openTheCircuit();
      await sleep(160);
      sim.script([{ type: 'ok' }]);
      await t.llm.chat({ messages: USER });
    });
    expect(circuitLines).toEqual([
      expect.stringMatching(
        /model 'gpt-4o-mini' opened; calls are rejected for 150 ms\. Last failure: 500/,
      ),
      expect.stringMatching(/is half-open: the next call probes the upstream/),
      expect.stringMatching(/closed: the upstream answered the probe/),
    ]);
  });

  it('logs an outage once, not each failed probe: opened, first probe, closed with the count', async () => {
    const circuitLines = await circuitLinesDuring(async () => {
      await openTheCircuit();
      // Three probes fail, each reopening the circuit (the break stays 150 ms here).
      for (let i = 0; i < 3; i++) {
        await sleep(160);
        sim.script([{ type: 'error', status: 500 }]);
        expect((await failureOf(() => t.llm.chat({ messages: USER }))).kind).toBe('server_error');
      }
      await sleep(160);
      sim.script([{ type: 'ok' }]);
      await t.llm.chat({ messages: USER });
    });
    // Before: opened, then half-open and opened again for every failed probe, then closed.
    expect(circuitLines).toEqual([
      expect.stringMatching(/opened; calls are rejected for 150 ms\. Last failure: 500/),
      expect.stringMatching(/is half-open: the next call probes the upstream/),
      expect.stringMatching(
        /closed: the upstream answered the probe\. It was open .*; 3 probe\(s\) failed before this one\./,
      ),
    ]);
  });

  it('client errors do not count toward opening it', async () => {
    sim.script([{ type: 'error', status: 400, repeat: 5 }]);
    for (let i = 0; i < 5; i++) await failureOf(() => t.llm.chat({ messages: USER }));
    expect(breakerState().effectiveState()).toBe('closed');
  });

  it('reads half-open once the open time has passed, closes on a good probe', async () => {
    await openTheCircuit();
    await sleep(160);
    expect(breakerState().effectiveState()).toBe('half_open');
    sim.script([{ type: 'ok', content: 'probe ok' }]);
    const { completion } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('probe ok');
    expect(breakerState().effectiveState()).toBe('closed');
  });

  it('reopens on a bad probe', async () => {
    await openTheCircuit();
    await sleep(160);
    sim.script([{ type: 'error', status: 503 }]);
    const probe: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(probe.kind).toBe('overloaded');
    expect(breakerState().effectiveState()).toBe('open');
    const rejected: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(rejected.kind).toBe('circuit_open');
  });

  it('is per model: another model of the same upstream still flows', async () => {
    await openTheCircuit();
    const { metadata } = await t.llm.chat({ model: 'gpt-4o', messages: USER });
    expect(metadata.model).toBe('gpt-4o');
  });

  it('stops retries once it opens mid-call', async () => {
    const retrying = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 2 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
    });
    try {
      sim.reset();
      sim.script([{ type: 'error', status: 502, repeat: 10 }]);
      const error: LlmError = await failureOf(() => retrying.llm.chat({ messages: USER }));
      expect(error).toMatchObject({ kind: 'circuit_open', attempts: 2 });
      expect(sim.requests).toHaveLength(2);
    } finally {
      await retrying.close();
    }
  });
});

describe('bulkhead (1 in flight, 1 queued)', () => {
  it('rejects at once when concurrency and queue are full', async () => {
    const sim = await UpstreamSimulator.start({ latencyMs: 150 });
    const t = await startLlmApp(sim.baseUrl, { bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    try {
      const first = t.llm.chat({ messages: USER });
      const queued = t.llm.chat({ messages: USER });
      const firstSettled = settled(first);
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      // Rejected while the call in flight was still running: it did not wait for a slot.
      expect(firstSettled()).toBe(false);
      expect(error).toMatchObject({ kind: 'bulkhead_full', retryable: false, attempts: 0 });
      await expect(first).resolves.toBeDefined();
      await expect(queued).resolves.toBeDefined();
      expect(sim.requests).toHaveLength(2);
    } finally {
      await t.close();
      await sim.close();
    }
  });

  it('a queued call whose deadline passes leaves the queue with deadline_exceeded', async () => {
    const sim = await UpstreamSimulator.start({ latencyMs: 200 });
    const t = await startLlmApp(sim.baseUrl, { bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    try {
      const first = t.llm.chat({ messages: USER });
      const firstSettled = settled(first);
      const error: LlmError = await failureOf(() =>
        t.llm.chat({ messages: USER }, { deadlineMs: 60 }),
      );
      expect(error.kind).toBe('deadline_exceeded');
      // It left the queue while the slot was still taken, and never reached the upstream: once
      // the first call is over, the upstream has seen that call alone (counted after it, so a
      // slow machine's late first request is not mistaken for none).
      expect(firstSettled()).toBe(false);
      await first;
      expect(sim.requests).toHaveLength(1);
    } finally {
      await t.close();
      await sim.close();
    }
  });
});

describe('bulkhead: only attempts in flight hold a slot', () => {
  it('calls waiting for budget hold none: one slot and no queue serve a paced burst', async () => {
    const sim = await UpstreamSimulator.start();
    const t = await startLlmApp(sim.baseUrl, {
      bulkhead: { maxConcurrent: 1, maxQueue: 0 },
      // One call per 102 ms: each answer is back long before the next call is admitted.
      limits: { rpm: 60, windowMs: 6000, intervalMs: 100 },
    });
    const { calls } = recordCalls(t.app);
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => t.llm.chat({ messages: USER })),
      );
      expect(results).toHaveLength(5);
      expect(sim.requests).toHaveLength(5);
      // Four of them waited for budget: with slots held while waiting they would have been
      // rejected with bulkhead_full.
      const waited = calls.filter((c) => c.attempts[0]!.limiterWaitMs >= 50);
      expect(waited.length).toBeGreaterThanOrEqual(4);
    } finally {
      await t.close();
      await sim.close();
    }
  });
});

describe('abort', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
    t = await startLlmApp(sim.baseUrl);
  });
  afterEach(async () => {
    await t.close();
    await sim.close();
  });

  it('aborting during an attempt cancels at once and closes the upstream request', async () => {
    sim.script([{ type: 'hang' }]);
    const recorder = recordCalls(t.app);
    const controller = new AbortController();
    const call = failureOf(() => t.llm.chat({ messages: USER }, { signal: controller.signal }));
    await eventually(() => sim.requests.length === 1, {
      what: 'the attempt to reach the upstream',
    });
    const abortedAt = Date.now();
    controller.abort();
    const error: LlmError = await call;
    expect(error).toMatchObject({ kind: 'cancelled', retryable: false, attempts: 1 });
    // Ended by the abort, not by the 1 s attempt timeout (FAST_POLICIES) that ends a hung attempt.
    expect(recorder.last.endedAt! - abortedAt).toBeLessThan(1000);
    expect(sim.requests).toHaveLength(1);
  });

  it('aborting during a backoff sleep cancels at once and sends no further attempt', async () => {
    const slow = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 5000 },
    });
    try {
      sim.script([
        { type: 'error', status: 429, headers: { 'retry-after-ms': '2000' } },
        { type: 'ok' },
      ]);
      const recorder = recordCalls(slow.app);
      const controller = new AbortController();
      const call = failureOf(() =>
        slow.llm.chat({ messages: USER }, { signal: controller.signal }),
      );
      await eventually(() => recorder.log.includes('retry 1 rate_limited via retry-after-ms'), {
        what: 'the retry to be scheduled',
      });
      const abortedAt = Date.now();
      controller.abort();
      const error: LlmError = await call;
      expect(error.kind).toBe('cancelled');
      // It ended during the 2 s backoff the server asked for, not after it.
      expect(recorder.last.endedAt! - abortedAt).toBeLessThan(recorder.last.retries[0]!.delayMs);
      await sleep(300);
      expect(sim.requests).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('an already aborted signal never reaches the upstream', async () => {
    const error: LlmError = await failureOf(() =>
      t.llm.chat({ messages: USER }, { signal: AbortSignal.abort() }),
    );
    expect(error).toMatchObject({ kind: 'cancelled', attempts: 0 });
    expect(sim.requests).toHaveLength(0);
  });
});
