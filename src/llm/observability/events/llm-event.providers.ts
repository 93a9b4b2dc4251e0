import { type Provider } from '@nestjs/common';
import { LLM_RESOLVED_OPTIONS } from '../../llm.constants';
import { type ResolvedLlmOptions } from '../../llm-module.options';
import { ElasticsearchEventSink } from './elasticsearch-event.sink';
import { FanOutEventSink } from './fan-out-event.sink';
import { LlmEventRecorder } from './llm-event.recorder';
import { LlmEventSink } from './llm-event.sink';
import { LogEventSink } from './log-event.sink';

/**
 * The business-event wiring of LlmModule, chosen from `events`:
 * `elasticsearch` set → the Elasticsearch sink (plus JSON lines on stdout when `log` is on too);
 * only `log` → JSON lines on stdout; neither → no sink, and the recorder does not even register.
 *
 * The Elasticsearch sink is its own provider so Nest runs its lifecycle hooks (start on init,
 * flush on shutdown); `null` when not configured.
 */
export const LLM_EVENT_PROVIDERS: Provider[] = [
  {
    provide: ElasticsearchEventSink,
    useFactory: ({ events }: ResolvedLlmOptions) =>
      events.elasticsearch ? new ElasticsearchEventSink(events.elasticsearch) : null,
    inject: [LLM_RESOLVED_OPTIONS],
  },
  {
    provide: LlmEventSink,
    useFactory: ({ events }: ResolvedLlmOptions, elasticsearch: ElasticsearchEventSink | null) => {
      const sinks: LlmEventSink[] = [
        ...(elasticsearch ? [elasticsearch] : []),
        ...(events.log ? [new LogEventSink()] : []),
      ];
      if (sinks.length === 0) return null;
      return sinks.length === 1 ? sinks[0] : new FanOutEventSink(sinks);
    },
    inject: [LLM_RESOLVED_OPTIONS, ElasticsearchEventSink],
  },
  LlmEventRecorder,
];
