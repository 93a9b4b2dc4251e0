import { Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CallLifecycle } from './client/call-lifecycle';
import { CallPath } from './client/call-path';
import { FallbackChain } from './client/fallback-chain.layer';
import { LlmClient } from './client/llm-client';
import { LlmHealthIndicator } from './health/llm.health';
import { LlmDrain } from './lifecycle/llm-drain';
import { LLM_EVENT_PROVIDERS } from './observability/events/llm-event.providers';
import { globalContextInterceptor } from './observability/global-context.interceptor';
import { LlmContextInterceptor } from './observability/llm-context.interceptor';
import { LlmMetrics } from './observability/llm-metrics';
import { LLM_RATE_LIMITER_PROVIDER } from './limits/llm-rate-limiter.provider';
import { LlmTelemetry } from './observability/llm-telemetry';
import { LlmTracing } from './observability/llm-tracing';
import { LLM_RESOLVED_OPTIONS } from './llm.constants';
import {
  LLM_MODULE_EXTRAS,
  LLM_MODULE_OPTIONS,
  LlmConfigurableModule,
  type LlmModuleExtras,
} from './llm.module-definition';
import { LlmModuleOptions, ResolvedLlmOptions } from './llm-module.options';
import { resolveLlmOptions } from './options/llm-options.resolver';
import { UpstreamPoliciesRegistry } from './resilience/upstream-policies.registry';
import { LlmHttpTransport } from './transport/llm-http.transport';

/**
 * Resilient, observable calls to OpenAI-compatible LLM APIs. Import it once with `forRoot` or
 * `forRootAsync`; inject {@link LlmClient} anywhere and {@link LlmHealthIndicator} in health checks.
 *
 * @example
 * LlmModule.forRoot({
 *   upstreams: [{ name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: process.env.OPENAI_API_KEY, defaultModel: 'gpt-4o-mini' }],
 * })
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: LLM_RESOLVED_OPTIONS,
      useFactory: (options: LlmModuleOptions, extras: LlmModuleExtras) =>
        logAdjustedDefaults(resolveLlmOptions(options, extras)),
      inject: [LLM_MODULE_OPTIONS, LLM_MODULE_EXTRAS],
    },
    UpstreamPoliciesRegistry,
    LlmHttpTransport,
    LLM_RATE_LIMITER_PROVIDER,
    LlmTelemetry,
    LlmMetrics,
    LlmTracing,
    ...LLM_EVENT_PROVIDERS,
    LlmDrain,
    CallLifecycle,
    FallbackChain,
    CallPath,
    LlmClient,
    LlmHealthIndicator,
    LlmContextInterceptor,
    globalContextInterceptor,
  ],
  exports: [
    LlmClient,
    LlmDrain,
    LlmHealthIndicator,
    LlmTelemetry,
    LlmContextInterceptor,
    UpstreamPoliciesRegistry,
    LLM_RESOLVED_OPTIONS,
  ],
})
export class LlmModule extends LlmConfigurableModule {}

/** One startup line per upstream whose defaults gave way to values the user set. */
function logAdjustedDefaults(options: ResolvedLlmOptions): ResolvedLlmOptions {
  for (const upstream of options.upstreams.values()) {
    if (upstream.adjusted.length === 0) continue;
    new Logger('LlmModule').log(
      `Upstream '${upstream.name}': defaults adjusted to the values you set: ` +
        `${upstream.adjusted.join('; ')}.`,
    );
  }
  return options;
}
