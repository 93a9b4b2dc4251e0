import { trace } from '@opentelemetry/api';
import * as http from 'node:http';
import { builtInHttpTelemetry, isInstrumented } from '../llm/transport/http-telemetry';
import { startTelemetry, telemetryPlan } from './telemetry.sdk';

describe('telemetryPlan', () => {
  it('exports no traces and no logs when nothing is configured', () => {
    const plan = telemetryPlan({});
    expect(plan).toMatchObject({
      exportTraces: false,
      exportLogs: false,
      serviceName: 'llm-gateway',
    });
    expect(plan.description).toContain('set OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it('exports traces over OTLP once an endpoint is named, generic or for traces', () => {
    expect(telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({
      exportTraces: true,
      description: 'Traces are exported over OTLP (http/protobuf) to http://collector:4318.',
    });
    const grpc = telemetryPlan({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    expect(grpc.description).toBe('Traces are exported over OTLP (grpc) to http://collector:4317.');
  });

  it('follows OTEL_TRACES_EXPORTER when it is set, `none` included', () => {
    expect(telemetryPlan({ OTEL_TRACES_EXPORTER: 'console' })).toMatchObject({
      exportTraces: true,
      description: 'Traces are exported with OTEL_TRACES_EXPORTER=console.',
    });
    const none = { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(telemetryPlan(none).exportTraces).toBe(false);
  });

  it('ignores blank variables', () => {
    const plan = telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ', OTEL_SERVICE_NAME: '' });
    expect(plan).toMatchObject({ exportTraces: false, serviceName: 'llm-gateway' });
  });

  it('takes the service name from OTEL_SERVICE_NAME, or leaves OTEL_RESOURCE_ATTRIBUTES its say', () => {
    expect(telemetryPlan({ OTEL_SERVICE_NAME: 'gw-eu' }).serviceName).toBe('gw-eu');
    const fromResource = telemetryPlan({ OTEL_RESOURCE_ATTRIBUTES: 'team=ai,service.name=gw-us' });
    expect(fromResource.serviceName).toBeUndefined();
  });

  it('reads OTEL_SDK_DISABLED as the SDK does: only `true`, in any case', () => {
    expect(telemetryPlan({}).sdkDisabled).toBe(false);
    expect(telemetryPlan({ OTEL_SDK_DISABLED: ' TRUE ' }).sdkDisabled).toBe(true);
    expect(telemetryPlan({ OTEL_SDK_DISABLED: 'false' }).sdkDisabled).toBe(false);
    expect(telemetryPlan({ OTEL_SDK_DISABLED: '1' }).sdkDisabled).toBe(false);
  });

  it('says OpenTelemetry is off, not how to export traces, when OTEL_SDK_DISABLED is true', () => {
    const plan = telemetryPlan({
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
    });
    expect(plan.description).toBe(
      'OpenTelemetry is off (OTEL_SDK_DISABLED=true): no traces are made and /metrics answers 503.',
    );
  });

  it('asks for a log exporter only when OTEL_LOGS_EXPORTER is set', () => {
    expect(telemetryPlan({ OTEL_LOGS_EXPORTER: 'otlp' }).exportLogs).toBe(true);
    expect(telemetryPlan({ OTEL_LOGS_EXPORTER: 'none' }).exportLogs).toBe(false);
  });
});

describe('startTelemetry with nothing configured', () => {
  it('registers no tracer provider: spans are not recorded, so nothing can be exported', async () => {
    const telemetry = startTelemetry({ resourceDetectors: [] }, {});
    try {
      const span = trace.getTracer('probe').startSpan('probe');
      expect(span.isRecording()).toBe(false);
      span.end();
      // No HTTP instrumentation (its work would be for no span): the built-in telemetry records
      // the HTTP metrics and propagates the context, and nothing patches `http`.
      expect(telemetry.httpTelemetry).toBe('built-in');
      expect(telemetry.httpInstrumentation).toBeUndefined();
      expect(builtInHttpTelemetry()).toBeDefined();
      expect(isInstrumented(http.request)).toBe(false);
    } finally {
      await telemetry.shutdown();
    }
    expect(builtInHttpTelemetry()).toBeUndefined();
  });
});

describe('startTelemetry with OTEL_SDK_DISABLED=true', () => {
  it('builds no HTTP instrumentation and no built-in telemetry: nothing patches `http`', async () => {
    const before = process.env.OTEL_SDK_DISABLED;
    // The SDK reads process.env itself; the plan reads the env given.
    process.env.OTEL_SDK_DISABLED = 'true';
    const telemetry = startTelemetry({ resourceDetectors: [] }, { OTEL_SDK_DISABLED: 'true' });
    try {
      expect(telemetry.plan.sdkDisabled).toBe(true);
      expect(telemetry.httpTelemetry).toBe('off');
      expect(telemetry.httpInstrumentation).toBeUndefined();
      expect(builtInHttpTelemetry()).toBeUndefined();
      expect(isInstrumented(http.request)).toBe(false);
      const span = trace.getTracer('probe').startSpan('probe');
      expect(span.isRecording()).toBe(false);
      span.end();
    } finally {
      await telemetry.shutdown();
      if (before === undefined) delete process.env.OTEL_SDK_DISABLED;
      else process.env.OTEL_SDK_DISABLED = before;
    }
  });
});
