import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type CallRecorder, recordCalls } from './support/call-recorder';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';

/** Milliseconds between the first and second request the simulator received. */
function gapBetweenAttempts(sim: UpstreamSimulator): number {
  const [first, second] = sim.requests;
  if (!first || !second) throw new Error(`expected 2 requests, got ${sim.requests.length}`);
  return second.at - first.at;
}

/** A wait taken from a hint: never sooner, spread after it by a tenth of it at most. */
function expectSpreadAfter(delayMs: number, hintMs: number): void {
  expect(delayMs).toBeGreaterThanOrEqual(hintMs);
  expect(delayMs).toBeLessThanOrEqual(Math.round(hintMs * 1.1));
}

// A server hint replaces the computed backoff (10..40 ms here): the retry the call recorded says
// which wait was used and where it came from, and the gap between attempts shows it was waited.
describe('server hints', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  let recorder: CallRecorder;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  // A module per test: a 429's wait holds the model for the next calls (the 429 hold), and each
  // test starts with none.
  beforeEach(async () => {
    sim.reset();
    t = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 150 },
    });
    recorder = recordCalls(t.app);
  });
  afterEach(() => t.close());
  afterAll(() => sim.close());

  it.each([
    ['retry-after-ms', { 'retry-after-ms': '120' }, 120, 'retry-after-ms'],
    [
      'retry-after-ms over retry-after',
      { 'retry-after-ms': '90', 'retry-after': '30' },
      90,
      'retry-after-ms',
    ],
    [
      'x-ratelimit-reset-requests',
      { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '100ms' },
      100,
      'x-ratelimit-reset-requests',
    ],
    [
      'x-ratelimit-reset-tokens',
      { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '0.11s' },
      110,
      'x-ratelimit-reset-tokens',
    ],
  ])('429 with %s waits what the server said', async (_name, headers, expectedMs, source) => {
    sim.script([{ type: 'error', status: 429, headers }, { type: 'ok' }]);
    const { metadata } = await t.llm.chat({ messages: USER });
    expect(metadata.attempts).toBe(2);
    const { retries } = recorder.last;
    expect(retries).toEqual([
      { number: 1, reason: 'rate_limited', delayMs: expect.any(Number) as unknown, source },
    ]);
    expectSpreadAfter(retries[0]!.delayMs, expectedMs);
    expect(recorder.last.attempts[1]).toMatchObject({
      delayBeforeMs: retries[0]!.delayMs,
      delaySource: source,
    });
    expect(gapBetweenAttempts(sim)).toBeGreaterThanOrEqual(expectedMs - 5);
  });

  it.each([
    ['Retry-After in seconds', { 'retry-after': '1' }, 'retry-after', 1000],
    ['retry-after-ms', { 'retry-after-ms': '400' }, 'retry-after-ms', 400],
  ])(
    '%s longer than maxServerHintMs (150 ms) ends the call at once with the provider’s wait, not retried',
    async (_name, headers, source, waitMs) => {
      sim.script([{ type: 'error', status: 429, headers }, { type: 'ok' }]);
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(error).toMatchObject({
        kind: 'rate_limited',
        attempts: 1,
        retryAfterMs: waitMs,
        retryAfterSource: source,
      });
      expect(error.message).toMatch(/longer than retry\.maxServerHintMs \(0\.1 s\): not retried/);
      expect(sim.requests).toHaveLength(1);
    },
  );

  it('an x-ratelimit-reset-* past maxServerHintMs is waited up to it (the whole budget’s return, not the next room)', async () => {
    sim.script([
      {
        type: 'error',
        status: 429,
        headers: { 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-remaining-requests': '0' },
      },
      { type: 'ok' },
    ]);
    await t.llm.chat({ messages: USER });
    expect(recorder.last.retries[0]).toMatchObject({ source: 'x-ratelimit-reset-requests' });
    expectSpreadAfter(recorder.last.retries[0]!.delayMs, 150);
    expect(gapBetweenAttempts(sim)).toBeGreaterThanOrEqual(145);
  });

  it('a hint past a day reads as a day (a date in 2099 told clients 2.3 billion seconds)', async () => {
    sim.script([
      { type: 'error', status: 429, headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' } },
    ]);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 86_400_000 });
  });

  it.each([
    ['Retry-After: 0', { 'retry-after': '0' }],
    ['retry-after-ms: 0', { 'retry-after-ms': '0' }],
    ['a date already past', { 'retry-after': new Date(Date.now() - 60_000).toUTCString() }],
  ])('%s is no hint: the backoff applies, not an immediate retry', async (_, headers) => {
    sim.script([{ type: 'error', status: 503, headers }, { type: 'ok' }]);
    await t.llm.chat({ messages: USER });
    expect(recorder.last.retries[0]).toMatchObject({ source: 'backoff' });
  });

  it('the spread after a hint leaves the retry half of what the deadline leaves', async () => {
    const patient = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 5000 },
    });
    try {
      await patient.llm.chat({ messages: USER }); // warm: the first attempts below take less
      const calls = 16;
      sim.script([
        { type: 'error', status: 503, headers: { 'retry-after-ms': '2000' }, repeat: calls },
        { type: 'ok', repeat: calls },
      ]);
      // 2,250 ms each: the 2 s hint fits, with under 250 ms after it. A spread of up to 200 ms
      // would leave the retry as little as 50 ms, and take more than half of what is left in
      // about half of the calls; capped at half, it leaves the retry 100 ms or more.
      const deadlineMs = 2250;
      const recorded = recordCalls(patient.app);
      const outcomes = await Promise.allSettled(
        Array.from({ length: calls }, () => patient.llm.chat({ messages: USER }, { deadlineMs })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(calls);
      expect(recorded.calls).toHaveLength(calls);
      for (const call of recorded.calls) {
        const delayMs = call.retries[0]!.delayMs;
        // What the deadline left when the first attempt ended (the deadline starts just before
        // the record, so this is an upper bound), and half of that after the hint.
        const leftMs = deadlineMs - (call.attempts[0]!.endedAt! - call.startedAt);
        expect(delayMs).toBeGreaterThanOrEqual(2000);
        expect(delayMs).toBeLessThanOrEqual(2000 + Math.ceil((leftMs - 2000) / 2));
      }
    } finally {
      await patient.close();
    }
  });

  it('Retry-After as an HTTP date is read', async () => {
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    sim.script([
      { type: 'error', status: 503, headers: { 'retry-after': inTwoSeconds } },
      { type: 'ok' },
    ]);
    // The date is whole seconds ahead (1-2 s), past the 150 ms this app waits for.
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'overloaded', retryAfterSource: 'retry-after' });
    expect(error.retryAfterMs).toBeGreaterThan(900);
    expect(error.retryAfterMs).toBeLessThanOrEqual(2000);
  });

  it('429 without any hint falls back to jittered backoff below its 10 ms ceiling', async () => {
    sim.script([{ type: 'error', status: 429 }, { type: 'ok' }]);
    await t.llm.chat({ messages: USER });
    const [retry] = recorder.last.retries;
    expect(retry).toMatchObject({ reason: 'rate_limited', source: 'backoff' });
    expect(retry!.delayMs).toBeLessThanOrEqual(10);
  });

  it('x-ratelimit-reset-* is not a retry hint on a 503', async () => {
    sim.script([
      { type: 'error', status: 503, headers: { 'x-ratelimit-reset-requests': '6m0s' } },
      { type: 'ok' },
    ]);
    await t.llm.chat({ messages: USER });
    const [retry] = recorder.last.retries;
    expect(retry).toMatchObject({ reason: 'overloaded', source: 'backoff' });
    expect(retry!.delayMs).toBeLessThanOrEqual(10);
  });

  it('a hint longer than the remaining deadline fails at once with the wait in the error', async () => {
    const patient = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 600_000 },
    });
    try {
      sim.script([
        {
          type: 'error',
          status: 429,
          headers: { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' },
        },
        { type: 'ok' },
      ]);
      const started = Date.now();
      const error: LlmError = await failureOf(() =>
        patient.llm.chat({ messages: USER }, { deadlineMs: 1000 }),
      );
      // At once: it did not wait out the 1 s deadline first.
      expect(Date.now() - started).toBeLessThan(1000);
      expect(error).toMatchObject({
        kind: 'deadline_exceeded',
        status: 429,
        retryable: false,
        attempts: 1,
        retryAfterMs: 360_000,
        retryAfterSource: 'x-ratelimit-reset-tokens',
      });
      expect(error.message).toContain('360.0 s');
      expect(sim.requests).toHaveLength(1);
    } finally {
      await patient.close();
    }
  });

  it('tells the caller the provider’s whole wait past the deadline, though maxServerHintMs caps its own sleep', async () => {
    sim.script([
      { type: 'error', status: 429, headers: { 'x-ratelimit-reset-requests': '6m0s' } },
      { type: 'ok' },
    ]);
    // maxServerHintMs is 150 ms here: the retry would sleep 150 ms, past a 100 ms deadline.
    const error: LlmError = await failureOf(() =>
      t.llm.chat({ messages: USER }, { deadlineMs: 100 }),
    );
    expect(error).toMatchObject({
      kind: 'deadline_exceeded',
      retryAfterMs: 360_000,
      retryAfterSource: 'x-ratelimit-reset-requests',
    });
    expect(error.message).toContain('Retry after 360.0 s');
  });

  it.each([0, -5, Number.NaN])(
    'a deadlineMs of %s is refused before any attempt',
    async (deadlineMs) => {
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }, { deadlineMs }));
      expect(error).toMatchObject({ kind: 'bad_request', param: 'deadlineMs', attempts: 0 });
      expect(sim.requests).toHaveLength(0);
    },
  );

  it('the total deadline ends a call that keeps failing', async () => {
    const slow = await startLlmApp(sim.baseUrl, {
      retry: { maxRetries: 10, baseDelayMs: 40, maxDelayMs: 40, maxServerHintMs: 500 },
      timeouts: { attemptMs: 60, deadlineMs: 150 },
    });
    try {
      sim.script([{ type: 'hang', repeat: 20 }]);
      const started = Date.now();
      const error: LlmError = await failureOf(() => slow.llm.chat({ messages: USER }));
      expect(error.kind).toBe('deadline_exceeded');
      // It may end up to one backoff (40 ms) early: a wait that would cross the deadline fails now.
      expect(Date.now() - started).toBeGreaterThanOrEqual(150 - 40 - 5);
      // Ended by the 150 ms deadline, not by the 10 retries: attempts of 60 ms can start at 0,
      // 60 and 120 ms at the earliest (jittered backoff may be near 0), so at most three.
      expect(error.attempts).toBeGreaterThanOrEqual(1);
      expect(error.attempts).toBeLessThanOrEqual(3);
      // The deadline may cut the last attempt before its request reached the simulator.
      expect(sim.requests.length).toBeLessThanOrEqual(error.attempts);
      expect(sim.requests.length).toBeGreaterThanOrEqual(error.attempts - 1);
    } finally {
      await slow.close();
    }
  });
});
