/** What a handler did with its RMQ message, as far as the channel saw. */
export type RmqSettlement = 'ack' | 'nack';

interface AmqpChannelLike {
  ack?: (message: object, ...rest: unknown[]) => unknown;
  nack?: (message: object, ...rest: unknown[]) => unknown;
  reject?: (message: object, ...rest: unknown[]) => unknown;
  cancel?: (consumerTag: string) => unknown;
}

const settled = new WeakMap<object, RmqSettlement>();
const watched = new WeakSet<object>();

/**
 * Notes every ack, nack and reject made on an amqplib channel, so the request event can say how
 * a handler settled its message (manual ack). The methods keep their behaviour; each channel is
 * wrapped once.
 */
export function watchRmqSettlements(channel: unknown): void {
  if (!channel || typeof channel !== 'object' || watched.has(channel)) return;
  watched.add(channel);
  const c = channel as AmqpChannelLike;
  wrap(c, 'ack', 'ack');
  wrap(c, 'nack', 'nack');
  wrap(c, 'reject', 'nack');
}

/** How the message was settled during its handler, if it was. */
export function rmqSettlementOf(message: unknown): RmqSettlement | undefined {
  return message && typeof message === 'object' ? settled.get(message) : undefined;
}

function wrap(channel: AmqpChannelLike, method: 'ack' | 'nack' | 'reject', as: RmqSettlement) {
  const original = channel[method];
  if (typeof original !== 'function') return;
  channel[method] = function (this: unknown, message: object, ...rest: unknown[]) {
    if (message && typeof message === 'object') settled.set(message, as);
    return original.call(this, message, ...rest);
  };
}

/** Stops the consumer a message came from (no more deliveries; the channel stays open). */
export function cancelRmqConsumer(channel: unknown, consumerTag: string): unknown {
  const c = channel as AmqpChannelLike | undefined;
  return typeof c?.cancel === 'function' ? c.cancel(consumerTag) : undefined;
}
