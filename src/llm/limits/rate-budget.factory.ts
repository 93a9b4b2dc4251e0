import type { ResolvedLlmOptions } from '../llm-module.options';
import type { BudgetStore } from './budget.store';
import type { BudgetNumbers, ResolvedLimits } from './llm-limits.options';
import { RateBudget, type RejectionListener } from './rate-budget';

/** Every budget of the module, found by upstream and model. */
export interface Budgets {
  /** The model's own budget, else the upstream's shared one, else none (unlimited). */
  for(upstream: string, model: string): RateBudget | undefined;
  all(): Iterable<RateBudget>;
}

/**
 * Builds one budget per upstream with `rpm` or `tpm` (shared by its models) and one per model
 * listed in `limits.models` (its own, counted apart from the shared one, as OpenAI counts).
 *
 * @example
 * budgetsOf(options, new MemoryBudgetStore(), onRejected).for('openai', 'gpt-4o');
 */
export function budgetsOf(
  options: ResolvedLlmOptions,
  store: BudgetStore,
  onRejected: RejectionListener,
  replicasNow?: () => number | undefined,
): Budgets {
  const shared = new Map<string, RateBudget>();
  const own = new Map<string, Map<string, RateBudget>>();
  for (const upstream of options.upstreams.values()) {
    const limits = upstream.limits;
    if (!limits) continue;
    const make = (numbers: BudgetNumbers, model?: string) =>
      new RateBudget(config(upstream.name, limits, numbers, model), store, onRejected, replicasNow);
    if (limits.rpm !== undefined || limits.tpm !== undefined) {
      shared.set(upstream.name, make(limits));
    }
    const models = new Map<string, RateBudget>();
    for (const [model, numbers] of Object.entries(limits.models)) {
      if (numbers.rpm !== undefined || numbers.tpm !== undefined)
        models.set(model, make(numbers, model));
    }
    own.set(upstream.name, models);
  }
  return {
    for: (upstream, model) => own.get(upstream)?.get(model) ?? shared.get(upstream),
    all: () => [...shared.values(), ...[...own.values()].flatMap((m) => [...m.values()])],
  };
}

function config(upstream: string, limits: ResolvedLimits, numbers: BudgetNumbers, model?: string) {
  return {
    key: model === undefined ? upstream : `${upstream}/${model}`,
    upstream,
    model,
    rpm: numbers.rpm,
    tpm: numbers.tpm,
    windowMs: limits.windowMs,
    intervalMs: limits.intervalMs,
    maxWaiting: limits.maxQueue,
    replicas: limits.replicas,
    adaptive: limits.adaptive,
    completionTokens: limits.completionTokens,
    refundUnusedTokens: limits.refundUnusedTokens,
  };
}
