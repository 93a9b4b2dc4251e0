import { metrics } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  envDetector,
  hostDetector,
  osDetector,
  type ResourceDetector,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
// The file itself, not the barrel: this runs before Nest and the HTTP transport may be loaded.
import { maskUrlPasswords } from '../llm/resilience/secret-redaction';
import { enableBuiltInHttpTelemetry } from '../llm/transport/http-telemetry';
import { prometheusExporter } from './prometheus-exporter';
import { gatewayPropagator } from './telemetry.propagator';
import { UNTRACED_PATHS } from './telemetry.http-server';

/** What the environment asks of telemetry, decided before the SDK starts. */
export interface TelemetryPlan {
  /** `service.name`; undefined when `OTEL_RESOURCE_ATTRIBUTES` sets it. */
  serviceName?: string;
  /** Whether spans leave the process (an exporter or an OTLP endpoint is configured). */
  exportTraces: boolean;
  /** Whether `OTEL_LOGS_EXPORTER` names a log exporter (nothing here emits logs unless asked). */
  exportLogs: boolean;
  /** One line for the startup log: where traces go, or how to send them somewhere. */
  description: string;
  /**
   * `OTEL_SDK_DISABLED=true`: the SDK starts nothing, and the HTTP instrumentation is built
   * disabled (an instrumentation enables itself when it is constructed).
   */
  sdkDisabled: boolean;
}

/** Replacements for what the environment configures; tests use them. */
export interface TelemetryOverrides {
  /** Span processors instead of `OTEL_TRACES_EXPORTER` / `OTEL_EXPORTER_OTLP_*`. */
  spanProcessors?: SpanProcessor[];
  /** @default the SDK's (host, os, process, env, service instance) */
  resourceDetectors?: ResourceDetector[];
}

/**
 * Who does the HTTP telemetry (the `http.*.request.duration` metrics, trace context caller →
 * upstream): `instrumentation` (OpenTelemetry's HTTP instrumentation, with server and client
 * spans) when spans are recorded; `built-in` (transport/http-telemetry.ts: the same metrics and
 * propagation, no span) when they are not; `off` with OTEL_SDK_DISABLED=true.
 */
export type HttpTelemetryMode = 'instrumentation' | 'built-in' | 'off';

/** The started SDK. */
export interface GatewayTelemetry {
  readonly plan: TelemetryPlan;
  readonly httpTelemetry: HttpTelemetryMode;
  /**
   * Instruments `http`: the server span of each request, the client span of each upstream call.
   * Only in `instrumentation` mode.
   */
  readonly httpInstrumentation?: HttpInstrumentation;
  /** Removes the `http` patches and flushes what is buffered; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Reads the standard OpenTelemetry variables. sdk-node exports OTLP to localhost:4318 when
 * `OTEL_TRACES_EXPORTER` is unset, so a gateway with no collector would try to connect on every
 * batch: here traces are exported only when an exporter or an OTLP endpoint is named. Metrics
 * always go to the Prometheus reader served on `GET /metrics` (`OTEL_METRICS_EXPORTER` is not read).
 *
 * @example
 * telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).exportTraces; // true
 */
export function telemetryPlan(env: NodeJS.ProcessEnv): TelemetryPlan {
  const set = (name: string) => (env[name]?.trim() ? env[name].trim() : undefined);
  const exporter = set('OTEL_TRACES_EXPORTER');
  const endpoint = set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? set('OTEL_EXPORTER_OTLP_ENDPOINT');
  const exportTraces = exporter !== undefined ? exporter !== 'none' : endpoint !== undefined;
  const protocol =
    set('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    set('OTEL_EXPORTER_OTLP_PROTOCOL') ??
    'http/protobuf';
  const resourceNamesService = /(?:^|,)\s*service\.name\s*=/.test(
    env.OTEL_RESOURCE_ATTRIBUTES ?? '',
  );
  // Read as the SDK reads it: only `true` (any case) disables it.
  const sdkDisabled = set('OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
  return {
    sdkDisabled,
    serviceName: set('OTEL_SERVICE_NAME') ?? (resourceNamesService ? undefined : 'llm-gateway'),
    exportTraces,
    exportLogs: (set('OTEL_LOGS_EXPORTER') ?? 'none') !== 'none',
    description: sdkDisabled
      ? 'OpenTelemetry is off (OTEL_SDK_DISABLED=true): no traces are made and /metrics answers 503.'
      : !exportTraces
        ? 'Traces are not exported; set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector.'
        : exporter !== undefined && exporter !== 'otlp'
          ? `Traces are exported with OTEL_TRACES_EXPORTER=${exporter}.`
          : `Traces are exported over OTLP (${protocol}) to ${endpoint ? maskUrlPasswords(endpoint) : 'the default endpoint'}.`,
  };
}

/**
 * Starts the OpenTelemetry SDK for the gateway. Call it before Nest, express or the transport are
 * loaded: the HTTP instrumentation patches `http` when it is required. Honours OTEL_SERVICE_NAME
 * (default `llm-gateway`), OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _PROTOCOL,
 * OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS and OTEL_SDK_DISABLED.
 *
 * @param env read for the decisions made here (export or not, service name); the SDK itself reads
 *   `process.env` for the rest, as every OpenTelemetry SDK does
 * @example
 * // telemetry.start.ts, imported by main.ts before anything else:
 * export const gatewayTelemetry = startTelemetry();
 */
export function startTelemetry(
  overrides: TelemetryOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): GatewayTelemetry {
  const plan = telemetryPlan(env);
  const spanProcessors = overrides.spanProcessors ?? (plan.exportTraces ? undefined : []);
  // The instrumentation costs about 0.2 ms of CPU per call even when no span is recorded
  // (docs/observability.md): then the built-in telemetry does what it did, without spans.
  const httpTelemetry: HttpTelemetryMode = plan.sdkDisabled
    ? 'off'
    : spanProcessors === undefined || spanProcessors.length > 0
      ? 'instrumentation'
      : 'built-in';
  const httpInstrumentation =
    httpTelemetry === 'instrumentation'
      ? new HttpInstrumentation({
          // Probes and scrapes would bury the traces that matter.
          ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        })
      : undefined;
  const sdk = new NodeSDK({
    serviceName: plan.serviceName,
    instrumentations: httpInstrumentation ? [httpInstrumentation] : [],
    metricReaders: [prometheusExporter],
    // Undefined lets the SDK read the environment; an empty list turns the signal off.
    spanProcessors,
    logRecordProcessors: plan.exportLogs ? undefined : [],
    resourceDetectors: overrides.resourceDetectors ?? defaultDetectors(env),
    // The SDK's default propagator, skipping extraction from a request with nothing to extract;
    // undefined (the SDK reads OTEL_PROPAGATORS) when the environment names propagators.
    textMapPropagator: gatewayPropagator(),
  });
  sdk.start();
  // After start: the metrics go to the meter provider the SDK registered.
  const disableBuiltIn =
    httpTelemetry === 'built-in'
      ? enableBuiltInHttpTelemetry(httpInstrumentationScope(), metrics.getMeterProvider())
      : undefined;
  let stopped: Promise<void> | undefined;
  return {
    plan,
    httpTelemetry,
    httpInstrumentation,
    shutdown: () => {
      stopped ??= (async () => {
        // The patches outlive the SDK otherwise (the SDK's shutdown leaves instrumentations on).
        httpInstrumentation?.disable();
        disableBuiltIn?.();
        await sdk.shutdown();
      })();
      return stopped;
    },
  };
}

/**
 * The HTTP instrumentation's scope, read from the installed package (an instance built disabled
 * patches nothing): the built-in telemetry's series keep its `otel_scope_name` and
 * `otel_scope_version`, also after an upgrade.
 */
function httpInstrumentationScope(): { name: string; version: string } {
  const { instrumentationName, instrumentationVersion } = new HttpInstrumentation({
    enabled: false,
  });
  return { name: instrumentationName, version: instrumentationVersion };
}

/**
 * The SDK's resource detectors without its process detector, unless OTEL_NODE_RESOURCE_DETECTORS
 * names them: the resource is `target_info` on the unauthenticated `/metrics`, where the process's
 * command line (secrets passed as arguments), executable path and owner have no place.
 */
function defaultDetectors(env: NodeJS.ProcessEnv): ResourceDetector[] | undefined {
  if (env.OTEL_NODE_RESOURCE_DETECTORS) return undefined;
  return [envDetector, hostDetector, osDetector, serviceInstanceIdDetector];
}
