import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { SafeConsoleLogger } from '../src/gateway/safe-console.logger';
import { startGatewayApp } from './support/gateway-test-app';
import { type HostileUpstream, startHostileUpstream } from './support/hostile-upstream';
import { inMemoryTracing } from './support/in-memory-tracing';

// Not in sk- form, built at run time: nothing key-shaped sits in the source.
const KEY = ['Zq7Wm2Rt9Xv', 'Lp4Kd8HsNf3Gb6Jc', 'Yt5Qa1Ue0Io9'].join('');
const TAIL = KEY.slice(-12);

const tracing = inMemoryTracing();
const { exporter } = tracing;
// What the gateway's telemetry bootstrap does, so /metrics serves the calls' series.
const meterProvider = new MeterProvider({ readers: [prometheusExporter] });

/** Everything a span could show: names, attributes, events and status. */
function spanText(): string {
  return JSON.stringify(
    exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
    })),
  );
}

describe('the upstream key and its last 12 characters appear in no output', () => {
  let upstream: HostileUpstream;
  const written: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };

  beforeAll(async () => {
    tracing.start();
    metrics.setGlobalMeterProvider(meterProvider);
    upstream = await startHostileUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    await meterProvider.shutdown();
    await tracing.stop();
  });

  it('holds for keys echoed in x-request-id, error bodies, masked tails and stream errors', async () => {
    const answers: string[] = [];
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    process.stdout.write = capture;
    process.stderr.write = capture;
    try {
      const gateway = await startGatewayApp(
        {
          LLM_BASE_URL: upstream.baseUrl,
          LLM_API_KEY: KEY,
          LLM_MAX_RETRIES: '1',
          LLM_RETRY_BASE_MS: '1',
          LLM_RETRY_MAX_MS: '2',
          // Business events as JSON lines on stdout, captured with the logs.
          LLM_EVENTS_LOG: 'true',
        },
        { logger: new SafeConsoleLogger() },
      );
      try {
        for (const model of ['echo-id', 'echo-error', 'echo-tail', 'echo-stream']) {
          const res = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model,
              stream: model === 'echo-stream',
              messages: [{ role: 'user', content: 'Hi' }],
            }),
          });
          answers.push(JSON.stringify([...res.headers.entries()]), await res.text());
        }
        answers.push(await (await fetch(`${gateway.url}/metrics`)).text());
        answers.push(await (await fetch(`${gateway.url}/health`)).text());
      } finally {
        await gateway.close();
      }
    } finally {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    }
    expect(upstream.requests).toBeGreaterThanOrEqual(4);
    const everything = { answers: answers.join('\n'), logs: written.join(''), spans: spanText() };
    // The probes did reach every output: the logs hold the events, the spans the calls.
    expect(everything.logs).toContain('"event.action"');
    expect(everything.spans).toContain('chat echo-error');
    expect(everything.answers).toContain('Hel');
    expect(everything.answers).toContain('gen_ai_client_operation_duration');
    for (const [where, text] of Object.entries(everything)) {
      expect({ where, hasKey: text.includes(KEY) }).toEqual({ where, hasKey: false });
      expect({ where, hasTail: text.includes(TAIL) }).toEqual({ where, hasTail: false });
    }
  });

  it('refuses a key in the base URL at boot without echoing it', async () => {
    const [host, path] = upstream.baseUrl.replace('http://', '').split('/');
    const url = `http://user:${KEY}@${host}/${path}`;
    const boot = startGatewayApp({ LLM_BASE_URL: url });
    await expect(boot).rejects.toThrow(/LLM_BASE_URL must not contain a user or password/);
    await expect(boot).rejects.not.toThrow(TAIL);
  });
});
