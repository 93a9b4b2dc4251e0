import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import {
  CompositePropagator,
  getStringListFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';

/**
 * The propagator sdk-node registers by default (W3C trace context, then W3C baggage, in one
 * `CompositePropagator`), which extracts nothing from a carrier with neither a `traceparent` nor
 * a `baggage` header without asking its two parts: each of them returns the context unchanged
 * then (`tracestate` is read only with a `traceparent`). Injection and the fields are the pair's.
 *
 * @example
 * new NodeSDK({ textMapPropagator: gatewayPropagator() });
 */
export class W3CPropagator implements TextMapPropagator {
  private readonly pair = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.pair.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    let neither: boolean;
    try {
      neither =
        getter.get(carrier, 'traceparent') === undefined &&
        getter.get(carrier, 'baggage') === undefined;
    } catch {
      // The pair catches (and warns about) a getter that throws: it answers then.
      neither = false;
    }
    return neither ? context : this.pair.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.pair.fields();
  }
}

/**
 * The propagator the gateway gives the SDK: {@link W3CPropagator} where sdk-node would register
 * its default W3C pair (`OTEL_PROPAGATORS` unset or blank, read as the SDK reads it); otherwise
 * undefined, and the SDK builds what `OTEL_PROPAGATORS` names (b3, jaeger, none, ...) as always.
 */
export function gatewayPropagator(): TextMapPropagator | undefined {
  return getStringListFromEnv('OTEL_PROPAGATORS') == null ? new W3CPropagator() : undefined;
}
