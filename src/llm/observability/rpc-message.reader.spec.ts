import type { ExecutionContext } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import {
  KafkaContext,
  MqttContext,
  NatsContext,
  RedisContext,
  RmqContext,
  TcpContext,
} from '@nestjs/microservices';
import { defaultRequestIdExtractor, defaultUserIdExtractor } from './llm-context.extractors';
import { rpcHeader, rpcPatternOf, rpcRedelivered, rpcTransportOf } from './rpc-message.reader';

/** A message handler's context as Nest hands it to interceptors and extractors. */
function rpcContext(transportContext: unknown, data: unknown = {}): ExecutionContext {
  return {
    getType: () => 'rpc',
    getHandler: () => function summarise() {},
    switchToRpc: () => ({ getData: () => data, getContext: () => transportContext }),
  } as unknown as ExecutionContext;
}

const USER = 'x-user-id';

/** Each transport's real context class, carrying `x-user-id: u-1` where that transport can. */
const TRANSPORTS: [string, unknown, string][] = [
  ['tcp', new TcpContext([{} as never, 'summarise', { [USER]: 'u-1' }]), 'summarise'],
  ['redis', new RedisContext(['summarise', { [USER]: 'u-1' }]), 'summarise'],
  [
    'rmq',
    new RmqContext([
      { properties: { headers: { [USER]: 'u-1' } }, fields: { redelivered: true } },
      {},
      'summarise',
    ]),
    'summarise',
  ],
  [
    'nats',
    new NatsContext(['jobs.summarise', { get: (k: string) => (k === USER ? 'u-1' : '') } as never]),
    'jobs.summarise',
  ],
  [
    'kafka',
    new KafkaContext([
      { headers: { [USER]: Buffer.from('u-1') } } as never,
      0,
      'summaries',
      {} as never,
      () => Promise.resolve(),
      {} as never,
    ]),
    'summaries',
  ],
  [
    'mqtt',
    new MqttContext([
      'summaries/in',
      { properties: { userProperties: { [USER]: 'u-1' } } } as never,
    ]),
    'summaries/in',
  ],
  [
    'grpc',
    (() => {
      const metadata = new Metadata();
      metadata.set(USER, 'u-1');
      return metadata;
    })(),
    'summarise',
  ],
];

describe('messages of every transport', () => {
  it.each(TRANSPORTS)(
    '%s: transport, pattern and the x-user-id header or metadata',
    (name, ctx, pattern) => {
      const context = rpcContext(ctx);
      expect(rpcTransportOf(context)).toBe(name);
      expect(rpcPatternOf(context)).toBe(pattern);
      expect(defaultUserIdExtractor(context)).toBe('u-1');
    },
  );

  it('prefers the payload userId (or user.id) over headers', () => {
    const ctx = new RedisContext(['summarise', { [USER]: 'from-metadata' }]);
    expect(defaultUserIdExtractor(rpcContext(ctx, { userId: 'from-payload' }))).toBe(
      'from-payload',
    );
    expect(defaultUserIdExtractor(rpcContext(ctx, { user: { id: 42 } }))).toBe('42');
  });

  it('marks an RMQ redelivery, and reads raw headers for custom extractors', () => {
    const context = rpcContext(TRANSPORTS.find(([name]) => name === 'rmq')![1]);
    expect(rpcRedelivered(context)).toBe(true);
    expect(rpcHeader(context, USER)).toBe('u-1');
  });

  it('keeps only request ids of a safe shape', () => {
    const meta = (id: string) =>
      rpcContext(new TcpContext([{} as never, 'p', { 'x-request-id': id }]));
    expect(defaultRequestIdExtractor(meta('req-1'))).toBe('req-1');
    expect(defaultRequestIdExtractor(meta('bad id\n<script>'))).toBeUndefined();
  });

  it('bounds and cleans what a producer sends', () => {
    const ctx = new TcpContext([{} as never, 'p', { [USER]: `u\u0000\u001b${'x'.repeat(400)}` }]);
    const user = defaultUserIdExtractor(rpcContext(ctx));
    expect(user).toMatch(/^ux+$/);
    expect(user).toHaveLength(256);
  });
});
