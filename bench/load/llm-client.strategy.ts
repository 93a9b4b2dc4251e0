import { NestFactory } from '@nestjs/core';
import { LlmClient } from '../../src/llm/client/llm-client';
import { LlmModule } from '../../src/llm/llm.module';
import { LlmTelemetry } from '../../src/llm/observability/llm-telemetry';
import { isLlmError } from '../../src/llm/resilience/llm.errors';
import { type BenchModuleSetup, benchModuleOptions } from '../support/bench-module.options';
import { LOAD_MESSAGES, type LoadStrategy, UpstreamTally } from './load-strategy';

/**
 * (f) This module: `LlmClient.chat` booted with `LlmModule.forRoot` as an application would, with
 * its defaults and only the provider's limit given ({@link benchModuleOptions}); (g) the same
 * without the limit (`setup.limits` unset): no budget, only the 429 hold.
 */
export async function llmClientStrategy(setup: BenchModuleSetup): Promise<LoadStrategy> {
  const budgeted = setup.limits?.rpm !== undefined;
  const app = await NestFactory.createApplicationContext(
    LlmModule.forRoot(benchModuleOptions(setup)),
    { logger: false, abortOnError: false },
  );
  const llm = app.get(LlmClient);
  const tally = new UpstreamTally();
  // The module's own observer port sees every attempt that reached the upstream.
  app.get(LlmTelemetry).register({
    onAttemptEnd: (_call, attempt) =>
      tally.count(attempt.status ?? attempt.errorKind ?? (attempt.error ? 'error' : 200)),
  });
  return {
    id: budgeted ? 'llm' : 'llm-unbudgeted',
    label: budgeted ? 'this module, defaults' : 'this module, no budget',
    description: budgeted
      ? `LlmClient with its defaults, told only the provider's ${setup.limits?.rpm} requests per minute`
      : 'LlmClient with its defaults and no budget: a 429 holds the model for its wait',
    tally,
    send: async () => {
      try {
        await llm.chat({ messages: LOAD_MESSAGES });
        return { ok: true };
      } catch (error) {
        return { ok: false, failure: isLlmError(error) ? error.kind : String(error) };
      }
    },
    close: () => app.close(),
  };
}
