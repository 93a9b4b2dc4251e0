import { Inject, Injectable, Logger } from '@nestjs/common';
import { BulkheadPolicy } from 'cockatiel';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { createBulkheadPolicy } from './bulkhead.policy';
import { durationText } from './duration-text';
import { BreakerSnapshot, TrackedBreaker } from './tracked-breaker';

/** Breakers kept per upstream before idle ones are dropped. */
export const MAX_BREAKERS_PER_UPSTREAM = 200;

/** The model of the breaker that models share once an upstream has no room for another one. */
export const OVERFLOW_BREAKER_MODEL = 'other';

/** While an outage lasts, how often its breaker says it is still open (failed probes counted). */
export const OUTAGE_LOG_INTERVAL_MS = 10_000;

/** How full one upstream's bulkhead is, for metrics. */
export interface BulkheadUsage {
  upstream: string;
  /** Calls holding a slot. */
  inUse: number;
  /** Calls waiting for a slot. */
  queued: number;
}

/**
 * Holds the long-lived policies: one bulkhead per upstream, one breaker per upstream and model
 * (one model's outage must not cut off the others). Breakers of the default models exist from
 * startup so health shows them before the first call.
 */
@Injectable()
export class UpstreamPoliciesRegistry {
  private readonly bulkheads = new Map<string, BulkheadPolicy>();
  private readonly breakers = new Map<string, TrackedBreaker>();
  private readonly logger = new Logger('LlmCircuitBreaker');
  /** The breaker most recently asked for, the last in {@link breakers}' order. */
  private last?: TrackedBreaker;

  constructor(@Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions) {
    for (const upstream of options.upstreams.values()) {
      this.bulkheads.set(upstream.name, createBulkheadPolicy(upstream.bulkhead));
      this.breaker(upstream, upstream.defaultModel);
    }
  }

  bulkhead(upstream: ResolvedUpstream): BulkheadPolicy {
    const policy = this.bulkheads.get(upstream.name);
    if (!policy) throw new Error(`No bulkhead for upstream '${upstream.name}'`);
    return policy;
  }

  breaker(upstream: ResolvedUpstream, model: string): TrackedBreaker {
    // The breaker asked for last is the map's last already: the common case (one model, or the
    // same model call after call) costs no key, lookup or re-insertion.
    const last = this.last;
    if (last?.upstream === upstream.name && last.model === model) return last;
    const key = `${upstream.name}\u0000${model}`;
    let breaker = this.breakers.get(key);
    if (breaker) {
      // Re-insert: the map's order is then least recently used first.
      this.breakers.delete(key);
    } else if (model === OVERFLOW_BREAKER_MODEL || this.evictIdleBreaker(upstream)) {
      breaker = this.createBreaker(upstream, model);
    } else {
      // Every breaker is busy (open or half-open): new models share one, so their number stays
      // bounded whatever callers send.
      return this.breaker(upstream, OVERFLOW_BREAKER_MODEL);
    }
    this.breakers.set(key, breaker);
    this.last = breaker;
    return breaker;
  }

  private createBreaker(upstream: ResolvedUpstream, model: string): TrackedBreaker {
    const breaker = new TrackedBreaker(upstream.name, model, upstream.breaker);
    // The on-call engineer's first clue, without polling health: a line when the circuit opens,
    // when it first probes, and when it closes. While an outage lasts, each failed probe reopens
    // it (every 0.25 s at first): those say nothing new, so they are counted into one line every
    // OUTAGE_LOG_INTERVAL_MS and into the closing line, not logged one by one (20 in 5 s).
    let outage: { since: number; failedProbes: number; saidAt: number } | undefined;
    breaker.onTransition((state) => {
      const now = Date.now();
      if (state === 'open' && outage !== undefined) {
        outage.failedProbes++;
        if (now - outage.saidAt < OUTAGE_LOG_INTERVAL_MS) return;
        outage.saidAt = now;
        this.logger.warn(
          `${breaker.describeTransition('open')} Still open: ${outage.failedProbes} probe(s) ` +
            `failed since it opened ${durationText(now - outage.since)} ago.`,
        );
        return;
      }
      if (state === 'half_open' && outage !== undefined && outage.failedProbes > 0) return;
      const line = breaker.describeTransition(state);
      if (state === 'open') {
        outage = { since: now, failedProbes: 0, saidAt: now };
        this.logger.warn(line);
        return;
      }
      if (state === 'closed' && outage !== undefined && outage.failedProbes > 0) {
        this.logger.log(
          `${line} It was open ${durationText(now - outage.since)}; ` +
            `${outage.failedProbes} probe(s) failed before this one.`,
        );
      } else this.logger.log(line);
      if (state === 'closed') outage = undefined;
    });
    return breaker;
  }

  /**
   * Model names come from requests, so their number is not ours to bound: past
   * {@link MAX_BREAKERS_PER_UPSTREAM}, the least recently used closed breaker is dropped (a
   * closed breaker holds nothing worth keeping but a failure count). False when there is no
   * room and none is idle.
   */
  private evictIdleBreaker(upstream: ResolvedUpstream): boolean {
    const own = [...this.breakers.entries()].filter(([, b]) => b.upstream === upstream.name);
    // One slot stays free for the shared overflow breaker.
    if (own.length < MAX_BREAKERS_PER_UPSTREAM - 1) return true;
    const idle = own.find(
      ([, b]) =>
        b.model !== upstream.defaultModel &&
        b.model !== OVERFLOW_BREAKER_MODEL &&
        b.effectiveState() === 'closed',
    );
    if (idle) this.breakers.delete(idle[0]);
    return idle !== undefined;
  }

  /** Calls in flight and queued per upstream: cockatiel exposes only the free slots. */
  bulkheadUsage(): BulkheadUsage[] {
    return [...this.options.upstreams.values()].map((upstream) => {
      const policy = this.bulkhead(upstream);
      return {
        upstream: upstream.name,
        inUse: upstream.bulkhead.maxConcurrent - policy.executionSlots,
        queued: upstream.bulkhead.maxQueue - policy.queueSlots,
      };
    });
  }

  /** Every breaker's state, for health checks and metrics. */
  snapshots(now = Date.now()): BreakerSnapshot[] {
    return [...this.breakers.values()].map((breaker) => breaker.snapshot(now));
  }
}
