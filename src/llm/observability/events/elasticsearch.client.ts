import type { Client, TransportRequestOptions } from '@elastic/elasticsearch';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { loadOptionalPeer } from '../../optional-peer';
import { type ResolvedElasticsearchEvents } from './llm-events.options';

/** The client, an optional peer: loaded only when `events.elasticsearch` is configured. */
export const elasticsearch = () =>
  loadOptionalPeer<typeof import('@elastic/elasticsearch')>(
    '@elastic/elasticsearch',
    'events.elasticsearch',
  );

/**
 * The key @opentelemetry/core's `suppressTracing` sets (the api's context keys are
 * `Symbol.for(description)`, so this is the same key). Not imported from @opentelemetry/core: each
 * of its major lines fits one api minor only, and the module takes the application's api 1.9+.
 */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** The longest one request to the cluster may take; the buffer, not the request, waits longer. */
export const ELASTICSEARCH_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Per-request options of every call the shipper makes. The client's OpenTelemetry middleware
 * (@elastic/transport 9) would trace each flush, and a trace per flush would drown the traces
 * of the calls themselves. Client 9.5 does not forward a client-level `openTelemetry` option to
 * its transport, so it is switched off per request, where the middleware reads it.
 */
export const SHIPPER_REQUEST_OPTIONS: TransportRequestOptions = {
  openTelemetry: { enabled: false },
};

/**
 * The client of the event shipper. No client retries (`maxRetries: 0`): the shipper keeps
 * failed batches and retries them itself, so a dead cluster costs one short request per retry,
 * never a pile of them. Credentials go to the client only; nothing here logs them.
 */
export function createElasticsearchClient(options: ResolvedElasticsearchEvents): Client {
  const { Client } = elasticsearch();
  return new Client({
    node: options.node,
    ...(options.auth ? { auth: options.auth } : {}),
    maxRetries: 0,
    requestTimeout: ELASTICSEARCH_REQUEST_TIMEOUT_MS,
    name: 'nestjs-resilient-llm-events',
  });
}

/**
 * Runs `fn` outside any request's context with tracing suppressed: no span of the shipper's
 * HTTP requests (from any HTTP instrumentation) lands in a user's trace, or anywhere.
 */
export function withoutTracing<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT.setValue(SUPPRESS_TRACING_KEY, true), fn);
}

/** The node URL without credentials, for log lines. */
export function printableNode(node: string): string {
  try {
    const url = new URL(node);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.origin + url.pathname.replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
