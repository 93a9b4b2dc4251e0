import { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';
import type { LoadConfig } from './load.config';
import {
  LOAD_MESSAGES,
  type LoadStrategy,
  type LoadStrategyId,
  type RequestOutcome,
  UpstreamTally,
} from './load-strategy';

/** Wait before retry `retry` (1-based), or undefined to give up. */
type RetrySchedule = (retry: number) => number | undefined;

// What the seed's retry loops retry (`retryable_status_codes` plus connection errors).
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** (a) One attempt, no retry: every 429 and 503 reaches the user. */
export function noRetryStrategy(baseUrl: string): LoadStrategy {
  return handRolled(baseUrl, {
    id: 'no-retry',
    label: 'no retry',
    description: 'one attempt; any error is the answer',
    delay: () => undefined,
  });
}

/** (b) The seed's "before": `time.sleep(2)` between up to 3 retries, whatever the error. */
export function fixedIntervalStrategy(baseUrl: string, config: LoadConfig): LoadStrategy {
  const intervalMs = config.fixedIntervalMs;
  return handRolled(baseUrl, {
    id: 'fixed',
    label: 'fixed interval',
    description: `${config.retries} retries, ${intervalMs / 1_000} s apart (the seed's "before")`,
    delay: (retry) => (retry <= config.retries ? intervalMs : undefined),
  });
}

/** (c) The seed's "after": `random.uniform(0, 2 ** attempt)`, full jitter, no server hints. */
export function jitterStrategy(baseUrl: string, config: LoadConfig): LoadStrategy {
  const baseMs = config.jitterBaseMs;
  return handRolled(baseUrl, {
    id: 'jitter',
    label: 'backoff + full jitter',
    description:
      `${config.retries} retries, uniform(0, ${baseMs / 1_000} s × 2^n), ` +
      `hints ignored (the seed's "after")`,
    delay: (retry) =>
      retry <= config.retries ? Math.random() * baseMs * 2 ** (retry - 1) : undefined,
  });
}

interface HandRolledSpec {
  id: LoadStrategyId;
  label: string;
  description: string;
  delay: RetrySchedule;
}

/** A retry loop as the seed writes it, on Node's fetch (keep-alive by default). */
function handRolled(baseUrl: string, spec: HandRolledSpec): LoadStrategy {
  const url = `${baseUrl}/chat/completions`;
  const body = JSON.stringify({ model: BENCH_MODEL, messages: LOAD_MESSAGES });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  // The seed's read timeout.
  const timeoutMs = 60_000;
  const tally = new UpstreamTally();
  const attempt = async (): Promise<number | 'network'> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 'network';
    }
  };
  return {
    id: spec.id,
    label: spec.label,
    description: spec.description,
    tally,
    send: async (): Promise<RequestOutcome> => {
      for (let retry = 0; ; retry++) {
        const answer = await attempt();
        tally.count(answer);
        if (answer === 200) return { ok: true };
        const retryable = answer === 'network' || RETRYABLE.has(answer);
        const waitMs = retryable ? spec.delay(retry + 1) : undefined;
        if (waitMs === undefined) return { ok: false, failure: describe(answer) };
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
    close: () => Promise.resolve(),
  };
}

function describe(answer: number | 'network'): string {
  return answer === 'network' ? 'network' : `http ${answer}`;
}
