import { headerValue, parseOpenAiDuration } from '../resilience/retry-after';
import type { BudgetDimension } from './budget.store';

/** What the provider said about one budget after an attempt. */
export interface ProviderBudgetView {
  dimension: BudgetDimension;
  /** `x-ratelimit-remaining-requests|tokens`. */
  remaining: number;
  /** `x-ratelimit-reset-requests|tokens`: until the budget is whole again, in ms. */
  resetMs: number;
}

const WHOLE_NUMBER = /^\d+$/;

/**
 * Reads OpenAI's `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` pairs (also sent by Azure
 * OpenAI, DeepSeek, vLLM behind LiteLLM and the simulator). A budget whose pair is incomplete or
 * malformed is skipped: without the reset there is no telling how long the count holds.
 *
 * @example
 * providerBudgetViews({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6s' });
 * // [{ dimension: 'requests', remaining: 0, resetMs: 6000 }]
 */
export function providerBudgetViews(headers: Record<string, string>): ProviderBudgetView[] {
  const views: ProviderBudgetView[] = [];
  for (const dimension of ['requests', 'tokens'] as const) {
    const remaining = headerValue(headers, `x-ratelimit-remaining-${dimension}`);
    const reset = headerValue(headers, `x-ratelimit-reset-${dimension}`);
    if (remaining === undefined || reset === undefined || !WHOLE_NUMBER.test(remaining)) continue;
    const resetMs = parseOpenAiDuration(reset);
    if (resetMs !== undefined) views.push({ dimension, remaining: Number(remaining), resetMs });
  }
  return views;
}
