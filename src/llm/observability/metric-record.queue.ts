import {
  type Attributes,
  type Counter,
  createNoopMeter,
  diag,
  type Histogram,
  type Meter,
} from '@opentelemetry/api';
import { afterAnswer } from './after-answer';

/**
 * Measurements taken when a call, attempt or HTTP request ended, handed to the SDK on the next turn
 * of the event loop (one `setImmediate`, shared with the call's events: `after-answer.ts`), after
 * the caller got its answer and the gateway wrote its response: each SDK record hashes its
 * attributes (sorted keys, `JSON.stringify`), a few µs and about 1.5 KiB apiece, about 7 per
 * gateway call. Values and attribute objects are fixed when they are queued, so what the SDK holds
 * once they are handed on is what it held when they were recorded at once; only the time a new
 * series starts at can move by that one turn.
 *
 * Nothing is late for a reader: every meter recorded into has a flush hook
 * ({@link flushBeforeCollection}), an observable gauge that reports nothing and whose callback
 * hands the queue on. The SDK runs observable callbacks at the start of every collection (a
 * Prometheus scrape, a periodic reader's export, its `forceFlush` and the final export of
 * `shutdown`, a test's `reader.collect()`), before it reads any storage: a collection sees every
 * measurement queued before it. Every meter recorded into has its own hook, so this does not rest
 * on the order in which a collection visits meters. Nothing is dropped: past {@link MAX_QUEUED}
 * measurements in one turn, the queue is handed on at once.
 *
 * A counter's increments go further: the first one of a series (counter and attribute object)
 * since the last collection is handed on on the next turn like any measurement, and the series'
 * later ones are summed here and handed on, one `add` per series, when the next collection starts.
 * The sum a collection reads is the same, and so is the time each series, and with delta
 * temporality each interval of it, starts at; the SDK hashes a busy series' attributes once per
 * collection instead of once per call. At most {@link MAX_HELD_SERIES} series are held; past them,
 * increments go on the next turn.
 */

/** Measurements held at most before they are handed on at once (one turn of a busy process). */
export const MAX_QUEUED = 1024;

/** Counter series whose increments are summed until the next collection, at most. */
export const MAX_HELD_SERIES = 1024;

// The API's no-op instruments are shared singletons: measurements for them are not even queued.
const noopMeter = createNoopMeter();
const NOOP_COUNTER = noopMeter.createCounter('noop');
const NOOP_HISTOGRAM = noopMeter.createHistogram('noop');

/** Histogram measurements, in the order they were taken (three parallel arrays, reused). */
const histograms: (Histogram | undefined)[] = [];
const histogramValues: number[] = [];
const histogramAttributes: (Attributes | undefined)[] = [];
let queuedHistograms = 0;

/** Counter increments, in the order they were taken. */
const counters: (Counter | undefined)[] = [];
const counterValues: number[] = [];
const counterAttributes: (Attributes | undefined)[] = [];
let queuedCounts = 0;

/**
 * Where each counter's last queued increment sits: an increment with the same attribute object
 * (they are reused per label set) is added to it, so a burst of calls with the same labels costs
 * the SDK one record, and one attribute hash, per counter. The sum is the same; so is the order in
 * which series first appear.
 */
const lastCount = new Map<Counter, number>();

/**
 * The counter series handed on since the last collection, with what they counted since: their
 * increments wait for the next collection ({@link flushMetricRecords}), which clears this.
 */
const held = new Map<Counter, Map<Attributes, number>>();
let heldSeries = 0;

let scheduled = false;

/** Queues `histogram.record(value, attributes)`. */
export function recordLater(histogram: Histogram, value: number, attributes: Attributes): void {
  if (histogram === NOOP_HISTOGRAM) return;
  const i = queuedHistograms++;
  histograms[i] = histogram;
  histogramValues[i] = value;
  histogramAttributes[i] = attributes;
  queued();
}

/** Queues `counter.add(value, attributes)`. */
export function addLater(counter: Counter, value: number, attributes: Attributes): void {
  if (counter === NOOP_COUNTER) return;
  const sums = held.get(counter);
  const sum = sums?.get(attributes);
  if (sum !== undefined) {
    sums!.set(attributes, sum + value);
    return;
  }
  const last = lastCount.get(counter);
  if (last !== undefined && counterAttributes[last] === attributes) {
    counterValues[last]! += value;
    return;
  }
  const i = queuedCounts++;
  counters[i] = counter;
  counterValues[i] = value;
  counterAttributes[i] = attributes;
  lastCount.set(counter, i);
  if (heldSeries < MAX_HELD_SERIES) {
    // This series' next increments wait for the collection.
    if (sums === undefined) held.set(counter, new Map([[attributes, 0]]));
    else sums.set(attributes, 0);
    heldSeries++;
  }
  queued();
}

function queued(): void {
  if (queuedHistograms + queuedCounts >= MAX_QUEUED) {
    handOnQueued();
  } else if (!scheduled) {
    scheduled = true;
    afterAnswer(handOnQueued);
  }
}

/**
 * Hands every measurement to the SDK now: those queued for the next turn, then the counts held
 * for the collection (a collection's hook runs this).
 */
export function flushMetricRecords(): void {
  handOnQueued();
  if (heldSeries === 0) return;
  for (const [counter, sums] of held) {
    for (const [attributes, sum] of sums) {
      if (sum === 0) continue;
      try {
        counter.add(sum, attributes);
      } catch (error) {
        failed(error);
      }
    }
  }
  // The next increment of each series is its first since this collection: on the next turn.
  held.clear();
  heldSeries = 0;
}

/** Hands the measurements queued for this turn to the SDK. */
function handOnQueued(): void {
  scheduled = false;
  const n = queuedHistograms;
  queuedHistograms = 0;
  for (let i = 0; i < n; i++) {
    try {
      histograms[i]!.record(histogramValues[i]!, histogramAttributes[i]);
    } catch (error) {
      failed(error);
    }
    // Not kept alive until overwritten (a request's attributes, a closed app's instruments).
    histograms[i] = histogramAttributes[i] = undefined;
  }
  const m = queuedCounts;
  queuedCounts = 0;
  for (let i = 0; i < m; i++) {
    const counter = counters[i]!;
    // Deleting an entry allocates nothing, and lets a closed app's counters go.
    lastCount.delete(counter);
    try {
      counter.add(counterValues[i]!, counterAttributes[i]);
    } catch (error) {
      failed(error);
    }
    counters[i] = counterAttributes[i] = undefined;
  }
}

function failed(error: unknown): void {
  diag.error('A metric measurement could not be recorded', error);
}

/** The meters that already flush the queue at the start of their collections. */
const hooked = new WeakSet<Meter>();

/**
 * Makes every collection that reads `meter` hand the queue on first. Call it for each meter that
 * {@link recordLater} and {@link addLater} record into (once is enough; more calls do nothing).
 * The hook is an observable gauge that never observes a value, so it exports no series.
 */
export function flushBeforeCollection(meter: Meter): void {
  if (hooked.has(meter)) return;
  hooked.add(meter);
  meter
    .createObservableGauge('nestjs_resilient_llm.metric_queue.flush', {
      description: 'Hands queued measurements to the SDK before it reads them; reports no value.',
    })
    .addCallback(flushMetricRecords);
}
