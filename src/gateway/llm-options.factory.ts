import type { LlmFallbackTarget, LlmModuleOptions } from '../llm/index';
import type { GatewayConfig } from './gateway.config';

/**
 * The LlmModule options of the gateway: one upstream, from the environment. Settings left unset
 * are omitted, so the module's documented defaults apply rather than a second copy of them here.
 *
 * @example
 * LlmModule.forRoot(toLlmModuleOptions(loadGatewayConfig(process.env)))
 */
export function toLlmModuleOptions(config: GatewayConfig): LlmModuleOptions {
  const { llm } = config;
  if (!llm.baseUrl) {
    throw new Error(
      'The gateway needs config.llm.baseUrl: set LLM_BASE_URL, or start it through main.ts, ' +
        'which starts the built-in simulator when LLM_BASE_URL is unset.',
    );
  }
  return {
    upstreams: [
      {
        ...llm.policies,
        name: llm.upstreamName,
        baseUrl: llm.baseUrl,
        // Omitted rather than undefined: local servers (vLLM, Ollama, the simulator) need no key.
        ...(llm.apiKey ? { apiKey: llm.apiKey } : {}),
        defaultModel: llm.model,
        provider: llm.provider,
        ...(llm.streamUsage ? { streamUsage: llm.streamUsage } : {}),
        ...(llm.limits ? { limits: llm.limits } : {}),
        ...(llm.fallbacks ? { fallbacks: toFallbackTargets(llm.fallbacks) } : {}),
      },
    ],
    // Budgets in Redis: every replica of the gateway counts against the same provider quota.
    ...(config.redisUrl ? { redis: { url: config.redisUrl } } : {}),
    health: { failReadinessWhenOpen: llm.failReadinessWhenOpen },
    ...(config.inbound.drainTimeoutMs === undefined
      ? {}
      : { drain: { timeoutMs: config.inbound.drainTimeoutMs } }),
    // x-user-id, x-feature-name and x-request-id reach every call through the module's own
    // interceptor, as they would in any app that uses it: on the chat route through its
    // runHttp (no rxjs pipeline per call), on the others as @UseInterceptors.
    context: { global: false },
    serviceName: config.serviceName,
    events: config.events,
  };
}

/** LLM_FALLBACKS chains as the upstream's `fallbacks`: targets on the same upstream, by model. */
function toFallbackTargets(chains: Record<string, string[]>): Record<string, LlmFallbackTarget[]> {
  return Object.fromEntries(
    Object.entries(chains).map(([model, targets]) => [
      model,
      targets.map((target) => ({ model: target })),
    ]),
  );
}
