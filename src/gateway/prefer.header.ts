import type { IncomingHttpHeaders } from 'node:http';

/** The longest `Prefer: wait` a GET of a job may hold the connection, seconds. */
export const MAX_JOB_WAIT_S = 60;

/**
 * The preferences of RFC 7240's `Prefer` header, lower-cased: `respond-async` and `wait=<s>`.
 * Unknown preferences are ignored, as the RFC asks.
 */
export function preferences(req: { headers: IncomingHttpHeaders }): {
  respondAsync: boolean;
  waitS?: number;
} {
  const raw = req.headers.prefer;
  const tokens = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(/[,;]/)
    .map((token) => token.trim().toLowerCase());
  const wait = tokens.find((token) => token.startsWith('wait='));
  const seconds = wait === undefined ? undefined : Number(wait.slice('wait='.length));
  return {
    respondAsync: tokens.includes('respond-async'),
    ...(seconds !== undefined && Number.isFinite(seconds) && seconds >= 0
      ? { waitS: Math.min(seconds, MAX_JOB_WAIT_S) }
      : {}),
  };
}
