import type { ExecutionContext } from '@nestjs/common';
import { type LlmDrain } from '../lifecycle/llm-drain';
import { cleanContextValue, isSafeRequestId } from './llm-context.extractors';
import { cancelRmqConsumer, rmqSettlementOf, watchRmqSettlements } from './rmq-ack.watch';
import {
  type LlmRpcTransport,
  rpcPatternOf,
  rpcRedelivered,
  rpcTransportOf,
} from './rpc-message.reader';

/**
 * How a message handler ended: `ack` (the handler succeeded, or acked its RMQ message), `nack`
 * (it nacked or rejected its RMQ message), `error` (it threw), `completed` (it succeeded on RMQ
 * without settling the message while it ran: a `noAck` queue, or an ack made later).
 */
export type LlmRpcOutcome = 'ack' | 'nack' | 'error' | 'completed';

/** What the request event and span record of a message instead of HTTP fields. */
export interface LlmRpcRequestInfo {
  transport: LlmRpcTransport;
  /** The pattern, channel, subject or topic (bounded). */
  pattern?: string;
  /** True when the broker delivered this message before (RMQ). */
  redelivered?: boolean;
  outcome?: LlmRpcOutcome;
}

interface RmqContextLike {
  getMessage(): {
    fields?: { consumerTag?: string };
    properties?: { correlationId?: unknown; messageId?: unknown };
  };
  getChannelRef(): unknown;
}

/** Reads a message's transport facts, and hooks its consumer into the drain (RMQ). */
export class RpcRequestTracker {
  readonly info: LlmRpcRequestInfo;
  private readonly rmq?: RmqContextLike;

  constructor(context: ExecutionContext, drain: LlmDrain) {
    const transport = rpcTransportOf(context);
    this.info = {
      transport,
      pattern: cleanContextValue(rpcPatternOf(context)),
      redelivered: rpcRedelivered(context),
    };
    if (transport !== 'rmq') return;
    this.rmq = context.switchToRpc().getContext<RmqContextLike>();
    const channel = this.rmq.getChannelRef();
    watchRmqSettlements(channel);
    const tag = this.rmq.getMessage().fields?.consumerTag;
    // Consumption stops first on shutdown: the broker keeps the queue's messages for others.
    if (tag) drain.stopIntakeOnDrain(`rmq:${tag}`, () => cancelRmqConsumer(channel, tag));
  }

  /**
   * An id that stays the same across redeliveries when the producer sent none: the RMQ message's
   * `messageId`, else its `correlationId` (set by Nest's ClientRMQ on every request).
   */
  fallbackRequestId(): string | undefined {
    const properties = this.rmq?.getMessage().properties;
    const id = properties?.messageId ?? properties?.correlationId;
    return isSafeRequestId(id) ? id : undefined;
  }

  /**
   * Resolves once the reply is out: Nest sends it on the next tick; on RMQ, Nest's confirm
   * channel drops replies the broker has not confirmed when it closes, so this also waits for
   * the broker's confirms (at most 2 s).
   */
  async replied(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const channel = this.rmq?.getChannelRef() as { waitForConfirms?: () => Promise<void> };
    if (typeof channel?.waitForConfirms !== 'function') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      channel.waitForConfirms().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Records how the handler ended. */
  settle(failed: boolean): LlmRpcRequestInfo {
    if (failed) this.info.outcome = 'error';
    else if (!this.rmq) this.info.outcome = 'ack';
    else this.info.outcome = rmqSettlementOf(this.rmq.getMessage()) ?? 'completed';
    return this.info;
  }
}
