import type { ClientProxy, ReadPacket } from '@nestjs/microservices';
import { loadOptionalPeer } from '../optional-peer';
import { llmTraceHeaders } from './llm-trace.propagation';

/** An RMQ record as `RmqRecordBuilder` builds it: the data and its publish options. */
interface RmqRecordLike {
  data: unknown;
  options?: { headers?: Record<string, unknown> } & Record<string, unknown>;
}

/** Options of {@link propagateLlmTraceContext}. */
export interface LlmPropagationOptions {
  /**
   * More headers (metadata) for every message, read when it is sent: e.g. the user id as
   * `x-user-id` and the request id as `x-request-id`, which the worker's context picks up.
   */
  headers?: () => Record<string, string>;
}

/**
 * Makes every message a ClientProxy sends carry the active trace context (W3C `traceparent`), so
 * the worker's LLM call spans continue the producer's trace:
 * - TCP, Redis and other packet-metadata transports get it in `packet.metadata`, which the
 *   worker reads with `getMetadata()`;
 * - RMQ gets it as message headers: a `RmqRecordBuilder` record keeps its options and gains the
 *   headers; plain data is sent as such a record (the handler receives the same data).
 *
 * Uses `setOnDispatchHook`, so it replaces a hook set before (pass your metadata as `headers`);
 * call it once per client.
 *
 * @example
 * @Module({ providers: [{
 *   provide: 'LLM_WORKER',
 *   useFactory: () => propagateLlmTraceContext(ClientProxyFactory.create({ transport: Transport.RMQ, options })),
 * }] })
 */
export function propagateLlmTraceContext<T extends ClientProxy>(
  client: T,
  options: LlmPropagationOptions = {},
): T {
  const rmq = client.constructor.name === 'ClientRMQ';
  client.setOnDispatchHook((packet: ReadPacket) => {
    const headers = llmTraceHeaders(options.headers?.() ?? {});
    if (Object.keys(headers).length === 0) return;
    packet.metadata = { ...packet.metadata, ...headers };
    if (!rmq) return;
    if (isRmqRecord(packet.data)) {
      const options = (packet.data.options ??= {});
      options.headers = { ...headers, ...options.headers };
    } else {
      packet.data = rmqRecord(packet.data, { headers });
    }
  });
  return client;
}

function isRmqRecord(value: unknown): value is RmqRecordLike {
  return value?.constructor?.name === 'RmqRecord';
}

/** Nest's RmqRecord, loaded from the application's own copy of @nestjs/microservices. */
function rmqRecord(data: unknown, options: { headers: Record<string, string> }): unknown {
  const { RmqRecord } = loadOptionalPeer<typeof import('@nestjs/microservices')>(
    '@nestjs/microservices',
    'propagateLlmTraceContext',
  );
  return new RmqRecord(data, options);
}
