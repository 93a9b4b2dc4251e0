import type { estypes } from '@elastic/elasticsearch';
import { elasticsearch } from './elasticsearch.client';
import { type BufferedEvent } from './event.buffer';

/** Per-item statuses worth sending again: the cluster is pushing back or briefly unwell. */
const RETRYABLE_ITEM_STATUSES = new Set([429, 500, 502, 503, 504]);

/** What a bulk response says about each event of the batch. */
export interface BulkOutcome {
  /** Indexed now, or already indexed by an earlier attempt (409 on `create` with our `_id`). */
  accepted: number;
  /** Refused for now (429, 5xx): back to the buffer. */
  retry: BufferedEvent[];
  /** Refused for good (mapping errors, ...): dropped, counted by the error type. */
  rejected: Map<string, number>;
}

/** Sorts a bulk response's items; items follow the order of the batch. */
export function readBulkResponse(
  batch: readonly BufferedEvent[],
  response: estypes.BulkResponse,
): BulkOutcome {
  const outcome: BulkOutcome = { accepted: 0, retry: [], rejected: new Map() };
  batch.forEach((event, i) => {
    const item = response.items[i];
    const result = item ? Object.values(item)[0] : undefined;
    const status = result?.status ?? 500;
    if ((status >= 200 && status < 300) || status === 409) {
      outcome.accepted++;
    } else if (RETRYABLE_ITEM_STATUSES.has(status)) {
      outcome.retry.push(event);
    } else {
      const type = result?.error?.type ?? `status_${status}`;
      outcome.rejected.set(type, (outcome.rejected.get(type) ?? 0) + 1);
    }
  });
  return outcome;
}

/**
 * Whether a failed bulk request is worth sending again: yes when the cluster was unreachable,
 * slow, overloaded or throttling; no when it refused the request itself (401/403: wrong
 * credentials, 413: too large, a server that is not Elasticsearch).
 */
export function isRetryableRequestError(error: unknown): boolean {
  const { errors } = elasticsearch();
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    return status === 408 || status === 429 || status >= 500;
  }
  if (error instanceof errors.ProductNotSupportedError) return false;
  if (error instanceof errors.ConfigurationError) return false;
  // Connection, timeout, abort, no living connections, unreadable response: transient.
  return true;
}

/** A short, credential-free account of a failed request, for a log line. */
export function describeRequestError(error: unknown): string {
  const { errors } = elasticsearch();
  if (error instanceof errors.ResponseError) {
    return `HTTP ${error.statusCode ?? '?'} ${error.body ? errorTypeOf(error.body) : ''}`.trim();
  }
  if (error instanceof Error) return `${error.name}: ${error.message.slice(0, 200)}`;
  return String(error);
}

function errorTypeOf(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return error.slice(0, 200);
  const type = (error as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : '';
}
