import {
  type Attributes,
  type Context,
  type Histogram,
  type MeterProvider,
  ROOT_CONTEXT,
  context as otelContext,
  metrics,
  propagation,
  ValueType,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { errorMonitor } from 'node:events';
import { performance } from 'node:perf_hooks';
import { flushBeforeCollection, recordLater } from '../observability/metric-record.queue';

/**
 * The instrumentation scope of the metrics (`otel_scope_name`, `otel_scope_version` on
 * `/metrics`). The gateway gives the HTTP instrumentation's, whose series these replace, so that
 * queries, dashboards and alerts read the same series whichever of the two records them.
 */
export interface HttpMetricsScope {
  name: string;
  version?: string;
}

// The instrumentation's own buckets (seconds), from the semantic conventions' advice.
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);

/** `http.request.method` as the semantic conventions (and the instrumentation) spell it. */
function normalizeMethod(method: string | undefined): string {
  if (method === undefined) return 'GET';
  // Already spelled so (the transport's POST, most servers' requests): no new string.
  if (KNOWN_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/** Where the upstream request goes, for the client metric's `server.*` attributes. */
export interface HttpClientTarget {
  hostname: string;
  /** As the URL spells it: empty for the scheme's default. */
  port: string;
  secure: boolean;
}

/**
 * What `@opentelemetry/instrumentation-http` does per request when no span is recorded (no
 * tracer provider), done without it: the two duration histograms (same names, unit, buckets,
 * attributes and scope) and W3C trace-context propagation, caller → upstream. It builds no span
 * attribute, binds no emitter to a context and parses no URL.
 *
 * It runs only where it is enabled ({@link enableBuiltInHttpTelemetry}): the gateway enables it
 * when it exports no traces and so loads no HTTP instrumentation. An app that runs the
 * instrumentation does not enable it, so nothing is recorded or injected twice; and while the
 * process's `http.request` is wrapped (an instrumentation is on), it injects nothing.
 */
export class BuiltInHttpTelemetry {
  private readonly server: Histogram;
  private readonly client: Histogram;

  constructor(scope: HttpMetricsScope, meterProvider: MeterProvider = metrics.getMeterProvider()) {
    const meter = meterProvider.getMeter(scope.name, scope.version);
    this.server = meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
      description: 'Duration of HTTP server requests.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.client = meter.createHistogram(METRIC_HTTP_CLIENT_REQUEST_DURATION, {
      description: 'Duration of HTTP client requests.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    // The durations are measured when a request ends and recorded after the answer is written.
    flushBeforeCollection(meter);
  }

  /**
   * The caller's trace context (`traceparent`, `tracestate`, `baggage`, or whatever
   * OTEL_PROPAGATORS names) over `parent`; `parent` itself when the request carries none.
   */
  extract(parent: Context, headers: IncomingHttpHeaders): Context {
    return propagation.extract(parent, headers);
  }

  /** Whether {@link inject} would write anything now: a trace context is active. */
  injects(): boolean {
    return otelContext.active() !== ROOT_CONTEXT;
  }

  /** Writes the active trace context into an upstream request's headers. */
  inject(headers: Record<string, string | number>): void {
    const active = otelContext.active();
    // Nothing to propagate: spares the propagators' work on calls without a caller's context.
    if (active !== ROOT_CONTEXT) propagation.inject(active, headers);
  }

  /**
   * Records `http.server.request.duration` for one request, from now until its response closes,
   * with the instrumentation's attributes: method, scheme, protocol version, status and, for a
   * 5xx or a response error, `error.type`.
   */
  serverRequest(req: IncomingMessage, res: ServerResponse, scheme: string): void {
    const start = performance.now();
    let done = false;
    const end = (error?: Error): void => {
      if (done) return;
      done = true;
      const attributes: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: normalizeMethod(req.method),
        [ATTR_URL_SCHEME]: scheme,
      };
      if (req.httpVersion) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = req.httpVersion;
      if (error) {
        attributes[ATTR_ERROR_TYPE] = error.name;
      } else {
        const status = res.statusCode;
        if (status) {
          attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
          if (status >= 500 && status < 600) attributes[ATTR_ERROR_TYPE] = String(status);
        }
      }
      recordLater(this.server, (performance.now() - start) / 1000, attributes);
    };
    // `on`, not `once` (whose wrapper is one more allocation per listener): `done` keeps it to one
    // record, and the response goes with its listeners. `close` passes no argument.
    res.on('close', end);
    // A monitor, not a listener: an error nobody else listens to must still be raised.
    res.on(errorMonitor, end);
  }

  /**
   * Starts `http.client.request.duration` for one upstream request: from now until its response
   * body ended (or the request failed or closed), with the instrumentation's attributes: method,
   * server address and port, protocol version, status and, for a 4xx/5xx or an error,
   * `error.type`. The request's sender tells the returned timing what happened (its `response`,
   * `failed` and `closed`) from the listeners it has anyway: no listener of its own on the request.
   */
  clientRequest(method: string, target: HttpClientTarget): ClientRequestTiming {
    return new ClientRequestTiming(this.client, method, target);
  }
}

/**
 * One upstream request's `http.client.request.duration`, recorded once, at the first of: the
 * response body's end, a response error, a request error ({@link failed}) or the request's close
 * ({@link closed}). Made before the request is written, it only notes the start: its attributes
 * are built when it is recorded, after the answer, and its listeners are shared functions.
 */
export class ClientRequestTiming {
  private readonly start = performance.now();
  /** When its body was taken whole ({@link taken}): the timing's end, recorded later. */
  private takenAt = 0;
  private httpVersion?: string;
  private status?: number;
  private done = false;

  constructor(
    private readonly histogram: Histogram,
    private readonly method: string,
    private readonly target: HttpClientTarget,
  ) {}

  /**
   * The response's headers arrived (call it from the request's `response` callback): its
   * protocol version and status; the timing then ends with its body (`end`) or its error.
   */
  response(res: IncomingMessage): void {
    this.httpVersion = res.httpVersion;
    this.status = res.statusCode;
    // A body taken whole as soon as it arrived ({@link bodyTaken}) ends the timing then, not at
    // its `end` event, which comes only after the caller's work on it.
    (res as TimedResponse)[TIMING] = this;
    // `on`, as for the server's: `end` passes no argument.
    res.on('end', responseEnded);
    // A monitor, not a listener: an error nobody else listens to must still be raised.
    res.on(errorMonitor, responseFailed);
  }

  /** The request failed (call it from the request's `error` listener). */
  failed(error: Error): void {
    this.end(error);
  }

  /**
   * The request closed (call it from its `close` listener): without an error or a whole body
   * before it (its reader stopped early, say), this ends the timing.
   */
  closed(): void {
    this.end();
  }

  /**
   * The response's whole body was taken at once ({@link bodyTaken}): the timing ends now, as if
   * the body had been read to its end here. Only the time is taken; the duration is recorded with
   * it at the first of the events that would end the timing ({@link end}), which come after the
   * caller's work on the body (the response's `end` on the next tick): whatever comes then is
   * ignored, as once the timing ended.
   */
  taken(): void {
    if (!this.done && this.takenAt === 0) this.takenAt = performance.now();
  }

  /** Records the duration, once, with the instrumentation's attributes. */
  end(error?: Error): void {
    if (this.done) return;
    this.done = true;
    const taken = this.takenAt !== 0;
    const seconds = ((taken ? this.takenAt : performance.now()) - this.start) / 1000;
    // Without an error (the answer's own path), the attributes the target's earlier requests of
    // the same method, status and version had: the same object each time, built once.
    const attributes = error && !taken ? this.attributes(error) : this.sharedAttributes();
    recordLater(this.histogram, seconds, attributes);
  }

  private sharedAttributes(): Attributes {
    const { target, method, httpVersion } = this;
    const status = this.status ?? 0;
    let byStatus = shared.get(target);
    if (byStatus === undefined)
      shared.set(target, (byStatus = new Map<number, SharedAttributes>()));
    const found = byStatus.get(status);
    if (found !== undefined && found.method === method && found.httpVersion === httpVersion) {
      return found.attributes;
    }
    const attributes = this.attributes();
    if (found === undefined && byStatus.size < MAX_SHARED) {
      byStatus.set(status, { method, httpVersion, attributes });
    }
    return attributes;
  }

  private attributes(error?: Error): Attributes {
    const { target } = this;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: normalizeMethod(this.method),
      [ATTR_SERVER_ADDRESS]: target.hostname,
      [ATTR_SERVER_PORT]: Number(target.port || (target.secure ? 443 : 80)),
    };
    if (this.httpVersion) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = this.httpVersion;
    const status = this.status;
    if (status) {
      attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
      if (status >= 400 && status < 600) attributes[ATTR_ERROR_TYPE] = String(status);
    }
    if (error) attributes[ATTR_ERROR_TYPE] = error.name;
    return attributes;
  }
}

/**
 * Attribute objects of a target's requests without an error, by status: built once, shared by
 * every later record of the same status, method and version (never changed once made; the SDK
 * only reads them). Bounded per target: past {@link MAX_SHARED} statuses (or for another method
 * or version than the status's first), each is built anew.
 */
const shared = new WeakMap<HttpClientTarget, Map<number, SharedAttributes>>();
const MAX_SHARED = 32;

interface SharedAttributes {
  method: string;
  httpVersion: string | undefined;
  attributes: Attributes;
}

const TIMING = Symbol('nestjs-resilient-llm.httpClientTiming');

interface TimedResponse {
  [TIMING]?: ClientRequestTiming;
}

// Shared by every response (the emitter is `this`): no bound function per request.
function responseEnded(this: TimedResponse): void {
  this[TIMING]?.end();
}

function responseFailed(this: TimedResponse, error: Error): void {
  this[TIMING]?.end(error);
}

/**
 * The whole body of an upstream response was taken at once (it had arrived with the head): its
 * `http.client.request.duration` ends now, where a body read to its `end` event would end it.
 * Its end time is taken now and the duration recorded when the response's `end` follows (on the
 * next tick, after the caller's answer: see {@link ClientRequestTiming.taken}). Nothing happens
 * for a response without the built-in timing.
 */
export function bodyTaken(res: object): void {
  (res as TimedResponse)[TIMING]?.taken();
}

let enabled: BuiltInHttpTelemetry | undefined;

/** The built-in HTTP telemetry when enabled, else undefined (the transport then does nothing). */
export function builtInHttpTelemetry(): BuiltInHttpTelemetry | undefined {
  return enabled;
}

/**
 * Turns the built-in HTTP telemetry on, for a process that runs no HTTP instrumentation; returns
 * the function that turns it off again. Metrics go to the global meter provider (or the one given).
 */
export function enableBuiltInHttpTelemetry(
  scope: HttpMetricsScope,
  meterProvider?: MeterProvider,
): () => void {
  const telemetry = new BuiltInHttpTelemetry(scope, meterProvider);
  enabled = telemetry;
  return () => {
    if (enabled === telemetry) enabled = undefined;
  };
}

/**
 * Whether a function was wrapped by an OpenTelemetry instrumentation (shimmer marks it so):
 * `http.request` is, while the HTTP instrumentation is on.
 */
export function isInstrumented(fn: unknown): boolean {
  return typeof fn === 'function' && '__wrapped' in fn;
}
