import { type LlmModuleOptions, type LlmUpstreamOptions } from '../../src/llm/llm-module.options';
import { type LlmEventsOptions } from '../../src/llm/observability/events/llm-events.options';
import { ElasticsearchEventSink } from '../../src/llm/observability/events/elasticsearch-event.sink';
import { type LlmTestApp, startLlmApp } from './llm-test-app';

/** The stream events go to with the default dataset and namespace. */
export const CALLS_STREAM = 'logs-llm.calls-default';

/** Shipper settings that make tests take milliseconds: flush often, small bulks. */
export const FAST_SHIPPING = {
  flushIntervalMs: 20,
  maxBulkEvents: 50,
  shutdownTimeoutMs: 1000,
} as const;

export interface LlmEventsTestApp extends LlmTestApp {
  /** The Elasticsearch sink, when `events.elasticsearch` is set. */
  sink: ElasticsearchEventSink | null;
}

/**
 * Boots LlmModule for real against one upstream (usually the simulator) with business events
 * configured, e.g. shipped to an {@link ElasticsearchStandIn}.
 */
export async function startEventsApp(
  baseUrl: string,
  events: LlmEventsOptions,
  options: { upstream?: Partial<LlmUpstreamOptions>; module?: Partial<LlmModuleOptions> } = {},
): Promise<LlmEventsTestApp> {
  const t = await startLlmApp(baseUrl, options.upstream, {
    serviceName: 'events-test',
    events,
    ...options.module,
  });
  return { ...t, sink: t.app.get(ElasticsearchEventSink) };
}
