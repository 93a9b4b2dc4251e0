import type { MessagePropertyHeaders } from 'amqplib';

/**
 * What a job's message carries besides its body, as AMQP headers: the body stays the request as
 * enqueued, and each redelivery republishes it with updated headers.
 */
export interface JobMessageHeaders {
  /** Runs that failed (crashed runs included), towards `maxDeliveries`. */
  failures: number;
  /** Times the job was put back to wait: a copy with fewer is stale and dropped. */
  delays: number;
  /** Runs that ended (in a delay); the store's delivery count minus these is the crashed runs. */
  runs: number;
  /** Epoch ms before which the job should not run (a wait longer than the longest bucket). */
  notBefore: number;
}

const NAMES = {
  failures: 'x-llm-failures',
  delays: 'x-llm-delays',
  runs: 'x-llm-runs',
  notBefore: 'x-llm-not-before',
} as const;

/** Header of a dead-lettered job: its last error as JSON. */
export const LAST_ERROR_HEADER = 'x-llm-last-error';

export function readJobHeaders(headers: MessagePropertyHeaders | undefined): JobMessageHeaders {
  const read = (name: string) => {
    const value = Number(headers?.[name] ?? 0);
    return Number.isFinite(value) && value >= 0 ? value : 0;
  };
  return {
    failures: read(NAMES.failures),
    delays: read(NAMES.delays),
    runs: read(NAMES.runs),
    notBefore: read(NAMES.notBefore),
  };
}

export function writeJobHeaders(headers: JobMessageHeaders): Record<string, number> {
  return {
    [NAMES.failures]: headers.failures,
    [NAMES.delays]: headers.delays,
    [NAMES.runs]: headers.runs,
    [NAMES.notBefore]: headers.notBefore,
  };
}
