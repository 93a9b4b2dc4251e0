import { NestFactory } from '@nestjs/core';
import { LlmClient } from '../../src/llm/client/llm-client';
import { LlmRateLimiter, UnlimitedRateLimiter } from '../../src/llm/limits/llm-rate-limiter';
import { LlmModule } from '../../src/llm/llm.module';
import { LlmTelemetry } from '../../src/llm/observability/llm-telemetry';
import { isLlmError } from '../../src/llm/resilience/llm.errors';
import { type BenchModuleSetup, benchModuleOptions } from '../bench-module.options';
import { LOAD_MESSAGES, type LoadStrategy, UpstreamTally } from './load-strategy';

/**
 * (e) This module: `LlmClient.chat` booted with `LlmModule.forRoot` as an application would,
 * configured by {@link benchModuleOptions} (defaults scaled to the short minute, and the rate
 * limiter told the simulator's limit when the module has one).
 */
export async function llmClientStrategy(setup: BenchModuleSetup): Promise<LoadStrategy> {
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
  const limited = !(app.get<LlmRateLimiter>(LlmRateLimiter) instanceof UnlimitedRateLimiter);
  return {
    id: setup.waitForCircuit ? 'llm-wait' : 'llm',
    label: setup.waitForCircuit ? 'this module, waiting breaker' : 'this module',
    description: describe(setup, limited),
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

function describe(setup: BenchModuleSetup, limited: boolean): string {
  const limiter =
    limited && setup.limits
      ? `rate limiter told the simulator's ${setup.limits.rpm} per minute` +
        (setup.redisUrl ? ', in Redis' : '')
      : 'no rate limiter (pending the limiter)';
  const breaker = setup.waitForCircuit
    ? "; calls wait for an open circuit's probe (breaker.maxWaitMs = breaker.halfOpenAfterMs) instead of failing at once"
    : '; the breaker fails calls at once while open (breaker.maxWaitMs 0, the default)';
  return `LlmClient with its defaults scaled to the short minute, ${limiter}${breaker}`;
}
