import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { gatewayPropagator, W3CPropagator } from './telemetry.propagator';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
// sdk-node's default propagator, which the gateway's must match.
const pair = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});
const mine = new W3CPropagator();

/** What a context carries that a propagator can put there. */
function carried(context: Context) {
  const baggage = propagation.getBaggage(context);
  return {
    span: trace.getSpanContext(context),
    baggage: baggage ? Object.fromEntries(baggage.getAllEntries()) : undefined,
  };
}

describe('W3CPropagator: the W3C pair, asking it nothing when there is nothing to extract', () => {
  const carriers: Record<string, Record<string, string | string[]>> = {
    none: { 'content-type': 'application/json' },
    'traceparent only': { traceparent: TRACEPARENT },
    'traceparent and tracestate': { traceparent: TRACEPARENT, tracestate: 'vendor=opaque' },
    'tracestate only': { tracestate: 'vendor=opaque' },
    'baggage only': { baggage: 'tenant=acme' },
    'baggage as a list': { baggage: ['tenant=acme', 'tier=gold'] },
    everything: { traceparent: TRACEPARENT, tracestate: 'vendor=opaque', baggage: 'tenant=acme' },
    'empty traceparent and baggage': { traceparent: '', baggage: '' },
    'malformed traceparent': { traceparent: '00-nothex-b7ad6b7169203331-01' },
  };

  it.each(Object.entries(carriers))('extracts what the pair extracts: %s', (_name, carrier) => {
    const parent = ROOT_CONTEXT.setValue(Symbol('parent'), 1);
    const expected = pair.extract(parent, carrier, defaultTextMapGetter);
    const actual = mine.extract(parent, carrier, defaultTextMapGetter);
    expect(carried(actual)).toEqual(carried(expected));
    // Unchanged exactly when the pair leaves it unchanged.
    expect(actual === parent).toBe(expected === parent);
  });

  it('returns the very context given for a request with neither header', () => {
    const parent = ROOT_CONTEXT.setValue(Symbol('parent'), 1);
    expect(mine.extract(parent, { tracestate: 'vendor=opaque' }, defaultTextMapGetter)).toBe(
      parent,
    );
    expect(
      carried(mine.extract(parent, { traceparent: TRACEPARENT }, defaultTextMapGetter)).span,
    ).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', isRemote: true });
  });

  it('leaves a getter that throws to the pair, which catches it', () => {
    const throwing: TextMapGetter = {
      get: () => {
        throw new Error('bad carrier');
      },
      keys: () => [],
    };
    expect(mine.extract(ROOT_CONTEXT, {}, throwing)).toBe(pair.extract(ROOT_CONTEXT, {}, throwing));
  });

  it('injects and lists the fields as the pair does', () => {
    const context = propagation.setBaggage(
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
      }),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const expected: Record<string, string> = {};
    const actual: Record<string, string> = {};
    pair.inject(context, expected, defaultTextMapSetter);
    mine.inject(context, actual, defaultTextMapSetter);
    expect(actual).toEqual(expected);
    expect(actual.traceparent).toBe(TRACEPARENT);
    expect(mine.fields()).toEqual(pair.fields());
  });
});

describe('gatewayPropagator: only where the SDK would register its default pair', () => {
  const saved = process.env.OTEL_PROPAGATORS;
  afterEach(() => {
    if (saved === undefined) delete process.env.OTEL_PROPAGATORS;
    else process.env.OTEL_PROPAGATORS = saved;
  });

  it('is the W3C propagator with OTEL_PROPAGATORS unset or blank', () => {
    delete process.env.OTEL_PROPAGATORS;
    expect(gatewayPropagator()).toBeInstanceOf(W3CPropagator);
    process.env.OTEL_PROPAGATORS = '  ';
    expect(gatewayPropagator()).toBeInstanceOf(W3CPropagator);
  });

  it.each(['b3', 'jaeger', 'none', 'tracecontext', 'tracecontext,baggage', ','])(
    'is left to the SDK with OTEL_PROPAGATORS=%s',
    (value) => {
      process.env.OTEL_PROPAGATORS = value;
      expect(gatewayPropagator()).toBeUndefined();
    },
  );
});
