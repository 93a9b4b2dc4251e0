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

  it("holds for a key echoed as a good answer's id, model and finish reason, plain and streamed", async () => {
    exporter.reset();
    const answers: string[] = [];
    const logs: string[] = [];
    process.stdout.write = (chunk: unknown): boolean => logs.push(String(chunk)) > 0;
    let metricsText: string;
    try {
      const gateway = await startGatewayApp(
        { LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: KEY, LLM_EVENTS_LOG: 'true' },
        { logger: new SafeConsoleLogger() },
      );
      try {
        for (const stream of [false, true]) {
          const res = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'echo-model',
              stream,
              messages: [{ role: 'user', content: 'Hi' }],
            }),
          });
          answers.push(await res.text());
        }
        metricsText = await (await fetch(`${gateway.url}/metrics`)).text();
        await new Promise((resolve) => setTimeout(resolve, 20)); // the event lines of the turn
      } finally {
        await gateway.close();
      }
    } finally {
      process.stdout.write = original.out;
    }
    // The answers are the upstream's text, relayed as sent: the key is in them, as the probe asked.
    expect(answers.join('')).toContain(KEY);
    const events = logs
      .join('')
      .split('\n')
      .filter((line) => line.includes('"llm-call"'));
    expect(events).toHaveLength(2);
    // Telemetry keeps the fields, masked.
    expect(events.join('')).toContain('"gen_ai.response.model":"***"');
    expect(metricsText).toContain('gen_ai_response_model="***"');
    const calls = exporter.getFinishedSpans().filter((span) => span.name === 'chat echo-model');
    expect(calls).toHaveLength(2);
    expect(calls.map((span) => span.attributes['gen_ai.response.finish_reasons'])).toEqual([
      ['***'],
      ['***'],
    ]);
    for (const [where, text] of Object.entries({ events, metricsText, spans: spanText() })) {
      expect({ where, hasTail: JSON.stringify(text).includes(TAIL) }).toEqual({
        where,
        hasTail: false,
      });
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
