/** The budgets in force; a missing or 0 limit is unlimited. */
export interface RateLimits {
  rpm?: number;
  tpm?: number;
  windowMs: number;
}

/** One admitted request; `tokens` starts as the estimate and is corrected with real usage. */
export interface WindowEntry {
  at: number;
  tokens: number;
}

/** Usage of the window right now, for the `x-ratelimit-*` headers. */
export interface RateSnapshot {
  limits: RateLimits;
  requestsUsed: number;
  tokensUsed: number;
  requestsResetMs: number;
  tokensResetMs: number;
}

/** Why a request was refused; `waitMs` is undefined when it can never fit (too large). */
export interface RateRejection {
  dimension: 'requests' | 'tokens';
  limit: number;
  used: number;
  requested: number;
  waitMs: number | undefined;
  snapshot: RateSnapshot;
}

/**
 * A sliding window of admitted requests and their tokens. Only admitted requests enter it, so a
 * rejected request spends no budget, as with OpenAI.
 */
export class RateWindow {
  private entries: WindowEntry[] = [];

  /**
   * Refuses the request when it would exceed a limit, without admitting it.
   *
   * @example
   * const rejection = window.check({ rpm: 60, windowMs: 60_000 }, 20);
   * if (!rejection) window.admit(20);
   */
  check(limits: RateLimits, requestedTokens: number, now = Date.now()): RateRejection | undefined {
    const snapshot = this.snapshot(limits, now);
    if (limits.rpm && snapshot.requestsUsed >= limits.rpm) {
      const waitMs = snapshot.requestsResetMs;
      return {
        dimension: 'requests',
        limit: limits.rpm,
        used: snapshot.requestsUsed,
        requested: 1,
        waitMs,
        snapshot,
      };
    }
    if (limits.tpm && snapshot.tokensUsed + requestedTokens > limits.tpm) {
      const waitMs = this.waitForTokens(limits.tpm, limits.windowMs, requestedTokens, now);
      return {
        dimension: 'tokens',
        limit: limits.tpm,
        used: snapshot.tokensUsed,
        requested: requestedTokens,
        waitMs,
        snapshot: { ...snapshot, tokensResetMs: waitMs ?? snapshot.tokensResetMs },
      };
    }
    return undefined;
  }

  /** Admits a request; the caller may correct `tokens` on the returned entry later. */
  admit(tokens: number, now = Date.now()): WindowEntry {
    const entry = { at: now, tokens };
    this.entries.push(entry);
    return entry;
  }

  /** Current usage; resets are the time until the oldest entry leaves the window. */
  snapshot(limits: RateLimits, now = Date.now()): RateSnapshot {
    this.prune(limits.windowMs, now);
    const oldest = this.entries[0];
    const resetMs = oldest ? oldest.at + limits.windowMs - now : 0;
    return {
      limits,
      requestsUsed: this.entries.length,
      tokensUsed: this.entries.reduce((sum, entry) => sum + entry.tokens, 0),
      requestsResetMs: resetMs,
      tokensResetMs: resetMs,
    };
  }

  clear(): void {
    this.entries = [];
  }

  // Entries are in arrival order, so the expired ones are a prefix.
  private prune(windowMs: number, now: number): void {
    let expired = 0;
    while (expired < this.entries.length && this.entries[expired]!.at + windowMs <= now) expired++;
    if (expired > 0) this.entries.splice(0, expired);
  }

  // The wait until enough of the oldest entries have left for the request to fit.
  private waitForTokens(tpm: number, windowMs: number, requested: number, now: number) {
    if (requested > tpm) return undefined;
    let used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    for (const entry of this.entries) {
      used -= entry.tokens;
      if (used + requested <= tpm) return entry.at + windowMs - now;
    }
    return 0;
  }
}
