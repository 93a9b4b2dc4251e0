import { CircuitBreakerPolicy, CircuitState } from 'cockatiel';
import { LlmBreakerOptions } from '../llm-module.options';
import { createBreakerPolicy } from './breaker.policy';
import { isLlmError } from './llm.errors';

/** A breaker state as people and orchestrators should read it. */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/** What health and metrics show of one breaker. */
export interface BreakerSnapshot {
  upstream: string;
  model: string;
  state: BreakerState;
  /** When the circuit entered `state` (ISO 8601). */
  since: string;
  /** While open: when one probe call will be let through (ISO 8601). */
  openUntil?: string;
  lastFailure?: { kind: string; status?: number; message: string; at: string };
}

/**
 * A cockatiel breaker for one upstream and model, plus what cockatiel does not expose: when it
 * changed state and its effective state. cockatiel only moves Open to HalfOpen when a call
 * arrives, so an open breaker past its half-open time reads `half_open` here: the next call
 * will be the probe.
 */
export class TrackedBreaker {
  readonly policy: CircuitBreakerPolicy;
  private changedAt = Date.now();
  private openedAt = 0;
  private lastFailure?: BreakerSnapshot['lastFailure'];

  constructor(
    readonly upstream: string,
    readonly model: string,
    private readonly options: LlmBreakerOptions,
  ) {
    this.policy = createBreakerPolicy(options);
    this.policy.onStateChange((state) => {
      this.changedAt = Date.now();
      if (state === CircuitState.Open) this.openedAt = this.changedAt;
    });
    this.policy.onFailure(({ handled, reason }) => {
      if (!handled || !('error' in reason)) return;
      const error = reason.error;
      this.lastFailure = {
        kind: isLlmError(error) ? error.kind : 'unknown',
        status: isLlmError(error) ? error.status : undefined,
        message: error instanceof Error ? error.message : String(error),
        at: new Date().toISOString(),
      };
    });
  }

  /** The state a caller would meet now. */
  effectiveState(now = Date.now()): BreakerState {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Isolated:
        return 'isolated';
      default:
        return now >= this.halfOpenAt() ? 'half_open' : 'open';
    }
  }

  /** While open, milliseconds until a probe may pass; 0 otherwise. */
  openRemainingMs(now = Date.now()): number {
    return this.policy.state === CircuitState.Open ? Math.max(0, this.halfOpenAt() - now) : 0;
  }

  snapshot(now = Date.now()): BreakerSnapshot {
    const state = this.effectiveState(now);
    const opened = this.policy.state === CircuitState.Open;
    return {
      upstream: this.upstream,
      model: this.model,
      state,
      since: new Date(
        opened && state === 'half_open' ? this.halfOpenAt() : this.changedAt,
      ).toISOString(),
      ...(state === 'open' ? { openUntil: new Date(this.halfOpenAt()).toISOString() } : {}),
      ...(this.lastFailure ? { lastFailure: this.lastFailure } : {}),
    };
  }

  private halfOpenAt(): number {
    return this.openedAt + this.options.halfOpenAfterMs;
  }
}
