import { type ChatMessage } from '../../src/llm/call/chat.types';
import { type LlmClient } from '../../src/llm/client/llm-client';
import { LlmError } from '../../src/llm/resilience/llm.errors';
import { type UpstreamSimulator } from '../../src/simulator/upstream-simulator';
import { failureOf } from './llm-test-app';

/** One user message, so each call can be told apart at the simulator. */
export const say = (text: string): ChatMessage[] => [{ role: 'user', content: text }];
/** The text of the first message of a request the simulator received. */
export const textOf = (body: unknown) => (body as { messages: ChatMessage[] }).messages[0]?.content;

/**
 * Sends `call 0` … `call 4` at once through `llm`, whose limiter admits two calls per `windowMs`,
 * and checks the limiter queued them first come first served instead of refusing any: each
 * succeeds on its first attempt, two reach `sim` per window in arrival order, and they end in
 * that order. Shared by the memory and Redis stores, which must queue alike. `sim` must have
 * received nothing since its last reset; the limiter's waits are left to the caller.
 */
export async function expectFiveCallsQueuedTwoPerWindow(
  llm: LlmClient,
  sim: UpstreamSimulator,
  windowMs: number,
): Promise<void> {
  const started = Date.now();
  const done: number[] = [];
  const results = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      llm.chat({ messages: [{ role: 'user', content: `call ${i}` }] }).then((result) => {
        done.push(i);
        return result;
      }),
    ),
  );
  expect(results.every((r) => r.metadata.attempts === 1)).toBe(true);
  // Two per window, in arrival order (the two of one window race each other over HTTP).
  const arrived = sim.requests.map((r) => textOf(r.body));
  expect(new Set(arrived.slice(0, 2))).toEqual(new Set(['call 0', 'call 1']));
  expect(new Set(arrived.slice(2, 4))).toEqual(new Set(['call 2', 'call 3']));
  expect(arrived[4]).toBe('call 4');
  expect(new Set(done.slice(2, 4))).toEqual(new Set([2, 3]));
  expect(done[4]).toBe(4);
  // The first two went out together, the third one window later and the fifth two windows later
  // (less 5 ms of slack for timers and the clock): the pair's gap is the baseline.
  const at = sim.requests.map((r) => r.at - started);
  expect(at[1]! - at[0]!).toBeLessThan(at[2]! - at[1]!);
  expect(at[2]).toBeGreaterThanOrEqual(windowMs - 5);
  expect(at[4]).toBeGreaterThanOrEqual(2 * windowMs - 5);
}

/**
 * Runs `call`, whose deadline `deadlineMs` comes before `upstream`'s spent budget of one request
 * per second frees, and checks the limiter refuses it up front, before any attempt and before the
 * deadline it would otherwise have waited out, with a typed error that says when to retry and
 * which setting to raise. Shared by the memory and Redis stores.
 */
export async function expectRefusedAtOnceOverDeadline(
  call: () => Promise<unknown>,
  upstream: string,
  deadlineMs: number,
): Promise<void> {
  const started = Date.now();
  const error = await failureOf<LlmError>(call);
  expect(Date.now() - started).toBeLessThan(deadlineMs);
  expect(error).toBeInstanceOf(LlmError);
  expect(error).toMatchObject({
    kind: 'rate_limited',
    retryable: false,
    providerCode: 'local_rate_limit',
    upstream,
    model: 'gpt-4o-mini',
    attempts: 0,
  });
  // Refused because room frees after the deadline: later than the 500 ms a loaded machine may
  // take for the first call, and within the 1 s window (plus its 1 % of jitter).
  expect(error.retryAfterMs).toBeGreaterThan(500);
  expect(error.retryAfterMs).toBeLessThanOrEqual(1010);
  expect(error.message).toContain(`rate-limit budget of upstream '${upstream}'`);
  // The message says when room frees and to retry then.
  expect(error.message).toMatch(
    /1 requests per 1\.0 s window.*room frees in (\d+\.\d) s.*Retry in \1 s.*limits\.rpm/,
  );
}
