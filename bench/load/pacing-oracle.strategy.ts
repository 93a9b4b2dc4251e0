import { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';
import {
  LOAD_MESSAGES,
  type LoadStrategy,
  type RequestOutcome,
  UpstreamTally,
} from './load-strategy';

/** Loopback jitter between this process and the simulator's clock, kept out of every gap. */
const GUARD_MS = 2;
/** A request still failing after this long is given up. */
const GIVE_UP_MS = 60_000;

interface Waiter {
  startedAt: number;
  resolve(): void;
}

/**
 * (e) The pacing oracle: a client that knows the provider's limit exactly and spaces every
 * attempt `60 000 / rpm` ms (+2 ms of loopback guard) after the previous one, first come first
 * served, so no second, interval or bucket ever holds more than its share. A failed attempt
 * (503, network) goes to the front of the queue and takes the next slot. The bar for the
 * module's p99: it is what perfect knowledge of the limit buys.
 */
export function pacingOracleStrategy(baseUrl: string, rpm: number): LoadStrategy {
  const url = `${baseUrl}/chat/completions`;
  const body = JSON.stringify({ model: BENCH_MODEL, messages: LOAD_MESSAGES });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  const gapMs = 60_000 / rpm + GUARD_MS;
  const tally = new UpstreamTally();
  const queue: Waiter[] = [];
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  // Releases the head of the queue once its slot has come; the gap is measured from the last
  // real send, so a late timer never makes the next gap shorter.
  const pump = (): void => {
    if (timer || queue.length === 0) return;
    const waitMs = lastSentAt + gapMs - performance.now();
    if (waitMs > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, waitMs);
      return;
    }
    lastSentAt = performance.now();
    queue.shift()!.resolve();
    pump();
  };
  const slot = (startedAt: number, first: boolean): Promise<void> =>
    new Promise((resolve) => {
      const waiter = { startedAt, resolve };
      // A retry keeps its place ahead of requests that arrived after it.
      const at = first ? -1 : queue.findIndex((w) => w.startedAt > startedAt);
      queue.splice(at === -1 ? queue.length : at, 0, waiter);
      pump();
    });
  const attempt = async (): Promise<number | 'network'> => {
    try {
      const response = await fetch(url, { method: 'POST', headers, body });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 'network';
    }
  };
  return {
    id: 'oracle',
    label: 'pacing oracle',
    description:
      `knows the limit: one attempt every ${gapMs} ms, first come first served; ` +
      'a failed attempt takes the next slot',
    tally,
    send: async (): Promise<RequestOutcome> => {
      const startedAt = performance.now();
      for (let first = true; ; first = false) {
        await slot(startedAt, first);
        const answer = await attempt();
        tally.count(answer);
        if (answer === 200) return { ok: true };
        const retryable = answer === 'network' || answer === 429 || answer >= 500;
        if (!retryable || performance.now() - startedAt > GIVE_UP_MS) {
          return { ok: false, failure: answer === 'network' ? 'network' : `http ${answer}` };
        }
      }
    },
    close: () => {
      clearTimeout(timer);
      return Promise.resolve();
    },
  };
}
