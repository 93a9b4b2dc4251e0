import { Logger, type Provider } from '@nestjs/common';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import type { ResolvedLlmOptions } from '../llm-module.options';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { BudgetRateLimiter } from './budget-rate.limiter';
import { LlmRateLimiter, UnlimitedRateLimiter } from './llm-rate-limiter';

/**
 * The module's {@link LlmRateLimiter}: budgets when any upstream sets `limits`, else the
 * unlimited one, which costs a call nothing. Override the token to plug in your own.
 */
export const LLM_RATE_LIMITER_PROVIDER: Provider = {
  provide: LlmRateLimiter,
  useFactory: (options: ResolvedLlmOptions, telemetry: LlmTelemetry): LlmRateLimiter => {
    if ([...options.upstreams.values()].some((upstream) => upstream.limits)) {
      return new BudgetRateLimiter(options, telemetry);
    }
    if (options.redis) {
      new Logger('LlmRateLimiter').warn(
        'redis is configured but no upstream sets limits.rpm or limits.tpm: the rate limiter ' +
          'does not use it (durable jobs still keep their states there when configured).',
      );
    }
    return new UnlimitedRateLimiter();
  },
  inject: [LLM_RESOLVED_OPTIONS, LlmTelemetry],
};
