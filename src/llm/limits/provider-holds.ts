import { Injectable } from '@nestjs/common';
import type { ResolvedUpstream } from '../llm-module.options';
import { LlmError } from '../resilience/llm.errors';

/** The most upstream and model pairs held at once; model names come from callers. */
const MAX_HOLDS = 256;

/** The spread after a hold's end, as a share of what is left of it, and at most. */
const HOLD_SPREAD = 0.1;
const MAX_HOLD_SPREAD_MS = 1000;

/**
 * What a provider's 429 said of everyone's calls, not only the refused one's: the time its
 * `Retry-After` (or `x-ratelimit-reset-*`) named, per upstream and model, in this process. Calls
 * to a held target wait for its end (spread a little after it, so they do not return together)
 * when their deadline allows, and are refused at once with the wait otherwise, instead of going
 * into the window the provider said was closed.
 *
 * With a budget (`limits.rpm`/`tpm`) the budget itself holds (across replicas through Redis);
 * this covers the default, no budget: without it, every new call went on into the closed window
 * and the refused ones came back at the same instant (against a sliding window of 20 per 10 s at
 * 4 calls a second, 263 of 327 requests got 429, and 46 % of the calls failed).
 */
@Injectable()
export class ProviderHolds {
  private readonly until = new Map<string, number>();

  /** Notes that `upstream` refused `model` for `waitMs` from now (the longest hold wins). */
  hold(upstream: ResolvedUpstream, model: string, waitMs: number, now = Date.now()): void {
    const ms = Math.min(waitMs, upstream.retry.maxServerHintMs);
    if (!(ms > 0)) return;
    const key = keyOf(upstream, model);
    const end = now + ms;
    if ((this.until.get(key) ?? 0) >= end) return;
    if (!this.until.has(key) && this.until.size >= MAX_HOLDS) {
      this.forgetEnded(now);
      if (this.until.size >= MAX_HOLDS) return;
    }
    this.until.set(key, end);
  }

  /**
   * How long a call to `model` on `upstream` must wait before its attempt, spread included;
   * 0 when nothing holds it (the usual case: one size check).
   */
  waitMs(upstream: ResolvedUpstream, model: string, now = Date.now()): number {
    if (this.until.size === 0) return 0;
    const key = keyOf(upstream, model);
    const end = this.until.get(key);
    if (end === undefined) return 0;
    const left = end - now;
    if (left <= 0) {
      this.until.delete(key);
      return 0;
    }
    return Math.round(left + Math.min(left * HOLD_SPREAD, MAX_HOLD_SPREAD_MS) * Math.random());
  }

  private forgetEnded(now: number): void {
    for (const [key, end] of this.until) if (end <= now) this.until.delete(key);
  }
}

function keyOf(upstream: ResolvedUpstream, model: string): string {
  return `${upstream.name}\u0000${model}`;
}

/** The refusal of a call whose deadline ends before the provider's hold does. */
export function heldPastDeadlineError(
  upstream: string,
  model: string,
  waitMs: number,
  remainingMs: number,
): LlmError {
  return new LlmError(
    'rate_limited',
    `Upstream '${upstream}' model '${model}' answered 429 to an earlier call and asked to wait; ` +
      `the wait ends in ${(waitMs / 1000).toFixed(1)} s, after the call's deadline ` +
      `(${(remainingMs / 1000).toFixed(1)} s left). Not sent: retry after ${(waitMs / 1000).toFixed(1)} s.`,
    { retryable: false, upstream, model, retryAfterMs: waitMs },
  );
}
