import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { startGatewayApp } from './support/gateway-test-app';

/** `/metrics` when no OpenTelemetry SDK reads the gateway's Prometheus exporter. */
describe('the gateway /metrics without a metrics SDK', () => {
  let sim: UpstreamSimulator;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterAll(() => sim.close());
  afterEach(() => {
    delete process.env.OTEL_SDK_DISABLED;
  });

  it.each([
    ['OTEL_SDK_DISABLED=true', 'true', 'OTEL_SDK_DISABLED=true turns off the OpenTelemetry SDK'],
    ['no exporter registered', undefined, 'Register prometheusExporter'],
  ])('answers 503 that says why: %s', async (_, disabled, why) => {
    if (disabled !== undefined) process.env.OTEL_SDK_DISABLED = disabled;
    const gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl });
    try {
      const res = await fetch(`${gateway.url}/metrics`);
      // Prometheus marks the target down instead of scraping an empty page that looks healthy.
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).toContain('Metrics are not available');
      expect(text).toContain(why);
    } finally {
      await gateway.close();
    }
  });
});
