/** Keys of the strategies, in the order the results show them. */
export const LOAD_STRATEGY_IDS = [
  'no-retry',
  'fixed',
  'jitter',
  'openai-sdk',
  'oracle',
  'llm',
  'llm-unbudgeted',
] as const;
/** The strategies that are this module (the target applies to them). */
export const MODULE_STRATEGY_IDS: readonly LoadStrategyId[] = ['llm'];
export type LoadStrategyId = (typeof LOAD_STRATEGY_IDS)[number];

/** How one logical request ended; `failure` says why, e.g. `http 429`, `circuit_open`. */
export interface RequestOutcome {
  ok: boolean;
  failure?: string;
}

/** What every upstream answer was, as the client saw it: `200`, `429`, `503`, `network`. */
export class UpstreamTally {
  private readonly counts = new Map<string, number>();

  count(answer: string | number): void {
    const key = String(answer);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Forgets everything counted so far (after a warm-up). */
  reset(): void {
    this.counts.clear();
  }

  get total(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  of(answer: string | number): number {
    return this.counts.get(String(answer)) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** One way of calling the upstream under load: a retry strategy, an SDK, or the module. */
export interface LoadStrategy {
  id: LoadStrategyId;
  label: string;
  /** One line on how it retries, for the report. */
  description: string;
  /** One logical request, retries included; resolves with how it ended, never rejects. */
  send(): Promise<RequestOutcome>;
  /** Every upstream answer this strategy received. */
  readonly tally: UpstreamTally;
  close(): Promise<void>;
}

/** The request every strategy sends: small, so the benchmark measures the call path. */
export const LOAD_MESSAGES = [{ role: 'user' as const, content: 'Say hi in one word.' }];
