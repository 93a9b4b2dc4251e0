import { durationText } from './duration-text';
import { type CircuitBreakerPolicy, CircuitState } from 'cockatiel';
import type { BreakerState } from '../call/call-record.types';
import { type LlmBreakerOptions } from '../llm-module.options';
import { createBreakerPolicy } from './breaker.policy';
import { isLlmError } from './llm.errors';

// The state names belong to the call model (call records carry them); re-exported for readers.
export type { BreakerState } from '../call/call-record.types';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

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
  /** When the circuit last turned half-open: its one probe started then (epoch ms). */
  private probeStartedAt = 0;
  /** The break in force: cockatiel's backoff says it as the circuit opens. */
  private breakMs: number;
  private lastFailure?: BreakerSnapshot['lastFailure'];

  constructor(
    readonly upstream: string,
    readonly model: string,
    options: LlmBreakerOptions,
  ) {
    this.breakMs = Math.min(options.minBreakMs, options.maxBreakMs);
    this.policy = createBreakerPolicy(
      options,
      (ms) => (this.breakMs = ms),
      // Each failure the breaker counts, as it counts it (before the transition it may cause).
      (error) => {
        this.lastFailure = {
          kind: isLlmError(error) ? error.kind : 'unknown',
          status: isLlmError(error) ? error.status : undefined,
          message: error instanceof Error ? error.message : String(error),
          at: new Date().toISOString(),
        };
      },
    );
    this.policy.onStateChange((state) => {
      this.changedAt = Date.now();
      if (state === CircuitState.Open) this.openedAt = this.changedAt;
      if (state === CircuitState.HalfOpen) this.probeStartedAt = this.changedAt;
    });
  }

  /** Calls `listener` with the new state on every transition cockatiel makes. */
  onTransition(listener: (state: BreakerState) => void): void {
    this.policy.onStateChange((state) => listener(STATE_NAMES[state]));
  }

  /** A one-line account of a transition, for logs. */
  describeTransition(state: BreakerState): string {
    const where = `Circuit for upstream '${this.upstream}' model '${this.model}'`;
    const last = this.lastFailure;
    switch (state) {
      case 'open':
        return (
          `${where} opened; calls are rejected for ${durationText(this.breakMs)}.` +
          (last ? ` Last failure: ${last.status ?? last.kind} (${last.message.slice(0, 200)})` : '')
        );
      case 'half_open':
        return `${where} is half-open: the next call probes the upstream.`;
      case 'closed':
        return `${where} closed: the upstream answered the probe.`;
      default:
        return `${where} is held open by hand (isolated).`;
    }
  }

  /** The state a caller would meet now. */
  effectiveState(now = Date.now()): BreakerState {
    const state = STATE_NAMES[this.policy.state];
    return state === 'open' && now >= this.halfOpenAt() ? 'half_open' : state;
  }

  /**
   * While half-open, how long its probe has been in flight (cockatiel lets one call through as
   * the probe and holds every other until it answers); undefined otherwise.
   */
  probeInFlightMs(now = Date.now()): number | undefined {
    return this.policy.state === CircuitState.HalfOpen ? now - this.probeStartedAt : undefined;
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

  /** How long the current (or last) break lasts: it doubles with each failed probe. */
  get breakDurationMs(): number {
    return this.breakMs;
  }

  private halfOpenAt(): number {
    return this.openedAt + this.breakMs;
  }
}
