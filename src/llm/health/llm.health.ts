import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { LlmDrain } from '../lifecycle/llm-drain';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';

/**
 * Terminus indicator of the upstreams' circuit breakers. It reads the breakers' effective state
 * and never calls the LLM: a health check must not spend tokens, be rate limited, or fail
 * because the provider is slow.
 *
 * @example
 * @Get('ready') @HealthCheck()
 * ready() { return this.health.check([() => this.llm.checkReadiness('llm')]); }
 */
@Injectable()
export class LlmHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly policies: UpstreamPoliciesRegistry,
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
    private readonly drain: LlmDrain,
  ) {}

  /**
   * For readiness probes: an open breaker is `degraded` (HTTP 200) unless
   * `health.failReadinessWhenOpen` is set. Failing readiness on every replica at once would take
   * the whole service out of the load balancer, and a breaker only half-opens when a call
   * reaches it, so a replica without traffic could stay open forever. `down` from the moment the
   * process starts draining for shutdown, so load balancers stop sending before it stops accepting.
   */
  checkReadiness<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    if (this.drain.draining) {
      return this.indicators
        .check(key)
        .down({ draining: true, callsInFlight: this.drain.inFlight });
    }
    // A half-open breaker lets the replica take the call that probes the upstream.
    return this.check(
      key,
      this.options.health.failReadinessWhenOpen ? 'down' : 'degraded',
      NOT_PASSING,
    );
  }

  /**
   * For monitors and dashboards: `down` (HTTP 503) while any breaker is open, or half-open: its
   * break is over but no probe has come through yet, so the upstream has not been seen to recover
   * (without traffic, a breaker stays half-open through a whole outage).
   */
  checkBreakers<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    return this.check(key, 'down', NOT_RECOVERED);
  }

  private check<const Key extends string>(
    key: Key,
    whenOpen: 'down' | 'degraded',
    counted: ReadonlySet<string>,
  ): HealthIndicatorResult<Key> {
    const breakers = this.policies.snapshots();
    const open = breakers.filter((breaker) => counted.has(breaker.state));
    const data = { openBreakers: open.length, breakers };
    const session = this.indicators.check(key);
    if (open.length === 0) return session.up(data);
    return whenOpen === 'down' ? session.down(data) : session.degraded(data);
  }
}

/** Breakers that let no call through. */
const NOT_PASSING: ReadonlySet<string> = new Set(['open', 'isolated']);
/** Breakers whose upstream has not answered a probe since they opened. */
const NOT_RECOVERED: ReadonlySet<string> = new Set(['open', 'isolated', 'half_open']);
