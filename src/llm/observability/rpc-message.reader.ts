import type { ExecutionContext } from '@nestjs/common';

/** The Nest transports an RPC context can come from; `rpc` when it is none of the known ones. */
export type LlmRpcTransport = 'rmq' | 'tcp' | 'redis' | 'nats' | 'kafka' | 'mqtt' | 'grpc' | 'rpc';

// Nest's context classes, by name: a duplicate copy of @nestjs/microservices has other classes.
const TRANSPORT_OF_CONTEXT: Record<string, LlmRpcTransport> = {
  RmqContext: 'rmq',
  TcpContext: 'tcp',
  RedisContext: 'redis',
  NatsContext: 'nats',
  KafkaContext: 'kafka',
  MqttContext: 'mqtt',
  // gRPC handlers get the call's Metadata as their context.
  Metadata: 'grpc',
};

/** What the handlers of the common transports expose, all optional. */
interface RpcContextLike {
  get?: (key: string) => unknown[];
  getMetadata?: () => Record<string, unknown> | undefined;
  getHeaders?: () => { get?: (key: string) => unknown } | undefined;
  getMessage?: () =>
    | {
        headers?: Record<string, unknown>;
        properties?: { headers?: Record<string, unknown> };
        fields?: { redelivered?: boolean };
      }
    | undefined;
  getPacket?: () => { properties?: { userProperties?: Record<string, unknown> } } | undefined;
  getPattern?: () => unknown;
  getChannel?: () => unknown;
  getSubject?: () => unknown;
  getTopic?: () => unknown;
}

function rpcContextOf(context: ExecutionContext): RpcContextLike | undefined {
  const ctx = context.switchToRpc().getContext<RpcContextLike | null | undefined>();
  return ctx && typeof ctx === 'object' ? ctx : undefined;
}

/** The transport a message came over, from its Nest context class. */
export function rpcTransportOf(context: ExecutionContext): LlmRpcTransport {
  const name = rpcContextOf(context)?.constructor?.name;
  return (name && TRANSPORT_OF_CONTEXT[name]) || 'rpc';
}

/**
 * The pattern (RMQ, TCP), channel (Redis), subject (NATS) or topic (Kafka, MQTT) the message was
 * sent to; for gRPC, the handler's name. Raw, unbounded: clean it before recording.
 */
export function rpcPatternOf(context: ExecutionContext): unknown {
  const ctx = rpcContextOf(context);
  if (!ctx) return undefined;
  for (const read of [ctx.getPattern, ctx.getChannel, ctx.getSubject, ctx.getTopic]) {
    if (typeof read === 'function') return read.call(ctx);
  }
  return context.getHandler().name;
}

/** True when the broker says it delivered this message before (RMQ `redelivered`). */
export function rpcRedelivered(context: ExecutionContext): boolean | undefined {
  const ctx = rpcContextOf(context);
  return typeof ctx?.getMessage === 'function' ? ctx.getMessage()?.fields?.redelivered : undefined;
}

/**
 * One header or metadata entry of the message being handled, whatever the transport: gRPC
 * metadata, NATS headers, Kafka and RMQ message headers, MQTT 5 user properties, and the TCP and
 * Redis packet metadata (`getMetadata()`, set by a producer's `setOnDispatchHook`). Raw value
 * (string, Buffer, ...): pass it through {@link cleanContextValue} before using it.
 *
 * @example
 * const tenant: LlmContextExtractor = (context) =>
 *   context.getType() === 'rpc' ? cleanContextValue(rpcHeader(context, 'x-tenant')) : undefined;
 */
export function rpcHeader(context: ExecutionContext, name: string): unknown {
  const ctx = rpcContextOf(context);
  if (!ctx) return undefined;
  if (typeof ctx.getMetadata === 'function') return ctx.getMetadata()?.[name];
  if (typeof ctx.get === 'function') return ctx.get(name)?.[0];
  if (typeof ctx.getHeaders === 'function') return ctx.getHeaders()?.get?.(name);
  if (typeof ctx.getMessage === 'function') {
    const message = ctx.getMessage();
    return message?.headers?.[name] ?? message?.properties?.headers?.[name];
  }
  if (typeof ctx.getPacket === 'function') {
    return ctx.getPacket()?.properties?.userProperties?.[name];
  }
  return undefined;
}
