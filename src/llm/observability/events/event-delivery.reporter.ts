import { Logger } from '@nestjs/common';
import { type Meter, metrics } from '@opentelemetry/api';
import { createInstruments, type LlmInstruments } from '../llm-metric.instruments';
import { LLM_METER_NAME } from '../llm-metrics';
import { ATTR_LLM_DROP_REASON, METRIC_LLM_EVENTS_DROPPED } from '../llm.semconv';

/** Why business events were lost: the `llm.drop.reason` metric attribute. */
export type LlmEventDropReason =
  /** The buffer was full (Elasticsearch slow, down or throttling for too long). */
  | 'buffer_full'
  /** Elasticsearch refused them for good: mapping error, wrong credentials, ... */
  | 'rejected'
  /** Still buffered when shutdown ran out of time, or written after it began. */
  | 'shutdown'
  /** Not serializable as JSON (a bug: events are built from plain values). */
  | 'unserializable'
  /** The stdout sink's write threw (stdout closed or broken): its lines are lost. */
  | 'write_failed';

const DROP_REASONS: readonly LlmEventDropReason[] = [
  'buffer_full',
  'rejected',
  'shutdown',
  'unserializable',
  'write_failed',
];

/** @default one warn line per 30 s at most */
export const DROP_WARNING_INTERVAL_MS = 30_000;

/**
 * Counts what the shipper delivered and lost (`llm.events.exported`, `llm.events.dropped` by
 * `llm.drop.reason`) and says so in the log: at most one warn line per interval, with the counts
 * since the last one, so a dead cluster under load cannot flood the log it would be read from.
 */
export class EventDeliveryReporter {
  private readonly i: LlmInstruments<'eventsExported' | 'eventsDropped'>;
  private readonly unreported = new Map<string, number>();
  private lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Pick<Logger, 'warn'> = new Logger('LlmEvents'),
    private readonly warningIntervalMs = DROP_WARNING_INTERVAL_MS,
    meter: Meter = metrics.getMeter(LLM_METER_NAME),
  ) {
    this.i = createInstruments(meter, ['eventsExported', 'eventsDropped']);
    // Every series exists from the start, at 0: a counter first seen already above 0 is no
    // increase to Prometheus (`increase()` needs two samples), so the first burst of drops (a
    // mapping error, a full buffer) never fired LlmBusinessEventsDropped.
    this.i.eventsExported.add(0);
    for (const reason of DROP_REASONS) {
      this.i.eventsDropped.add(0, { [ATTR_LLM_DROP_REASON]: reason });
    }
  }

  exported(count: number): void {
    if (count > 0) this.i.eventsExported.add(count);
  }

  /** Counts a loss; `detail` (e.g. `mapper_parsing_exception`) goes into the log line only. */
  dropped(reason: LlmEventDropReason, count: number, detail?: string): void {
    if (count <= 0) return;
    this.i.eventsDropped.add(count, { [ATTR_LLM_DROP_REASON]: reason });
    const key = detail ? `${reason} (${detail})` : reason;
    this.unreported.set(key, (this.unreported.get(key) ?? 0) + count);
    this.warnIfDue();
  }

  /** Writes the pending counts if the interval has passed (or at once with `force`). */
  warnIfDue(force = false, now = Date.now()): void {
    if (this.unreported.size === 0) return;
    if (!force && now - this.lastWarningAt < this.warningIntervalMs) return;
    const counts = [...this.unreported].map(([key, count]) => `${key}: ${count}`).join(', ');
    const total = [...this.unreported.values()].reduce((a, b) => a + b, 0);
    const fromBuffer = [...this.unreported.keys()].some((key) => key.startsWith('buffer_full'));
    this.unreported.clear();
    this.lastWarningAt = now;
    this.logger.warn(
      `Dropped ${total} business event(s) (${counts}); counted in ${METRIC_LLM_EVENTS_DROPPED}. ` +
        (fromBuffer
          ? `If Elasticsearch is down or slow, LLM calls are unaffected; raise ` +
            `events.elasticsearch.maxBufferedEvents/maxBufferedBytes to ride out longer outages.`
          : `LLM calls are unaffected.`),
    );
  }
}
