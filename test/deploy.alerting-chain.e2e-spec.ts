import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type AlertNotification, AlertWebhookReceiver } from './support/alert-webhook.receiver';
import {
  type AlertmanagerServer,
  alertmanagerTestConfig,
  startAlertmanager,
} from './support/alertmanager-server';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { type PrometheusServer, startPrometheus } from './support/prometheus-server';
import { shortenRuleWindows } from './support/short-window-rules';

// The seed's first monitoring layer, end to end on real processes: the gateway in front of the
// simulator, Prometheus scraping it with deploy/prometheus/alerts.yml (every window divided by
// 50: 5 minutes are 6 s, `for: 2m` is 2.4 s), and Alertmanager running the routing tree of
// deploy/alertmanager/alertmanager.yml with short timings and local webhooks as receivers.
const DEPLOY = join(__dirname, '..', 'deploy');
const FACTOR = 50;
const WAIT_MS = 25_000;
const ALERT = 'LlmErrorRatioHigh';

const isAlert = (severity: string, status: 'firing' | 'resolved') => (n: AlertNotification) =>
  n.alerts.some(
    (a) => a.labels.alertname === ALERT && a.labels.severity === severity && a.status === status,
  );

/**
 * Sequential chat calls through the gateway, about 15 a second, of which `ratio` fail: before
 * each call that should fail, the simulator's control API scripts one 500 for it. Failures are
 * spread evenly (an accumulator, not chance), so a 6 s window holds the ratio within a point or two.
 */
class Traffic {
  sent = 0;
  private ratio = 0;
  private owed = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly gatewayUrl: string,
    private readonly simUrl: string,
  ) {
    this.loop = this.run();
  }

  failing(ratio: number): void {
    this.ratio = ratio;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.owed += this.ratio;
      if (this.owed >= 1) {
        this.owed -= 1;
        await post(`${this.simUrl}/_sim/script`, { steps: [{ type: 'error', status: 500 }] });
      }
      const res = await post(`${this.gatewayUrl}/v1/chat/completions`, {
        messages: [{ role: 'user', content: 'Where is my order?' }],
      });
      await res.arrayBuffer();
      this.sent++;
      await sleep(50);
    }
  }
}

function post(url: string, body: object): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-feature-name': 'support-chat' },
    body: JSON.stringify(body),
  });
}

describe('alerting: gateway → Prometheus → Alertmanager → receivers', () => {
  let provider: MeterProvider;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let hooks: AlertWebhookReceiver;
  let alertmanager: AlertmanagerServer;
  let prometheus: PrometheusServer;
  let traffic: Traffic;

  const firingInPrometheus = async (): Promise<string[]> =>
    (await prometheus.alerts())
      .filter((a) => a.labels.alertname === ALERT && a.state === 'firing')
      .map((a) => a.labels.severity ?? '')
      .sort();

  beforeAll(async () => {
    provider = new MeterProvider({ readers: [prometheusExporter] });
    metrics.setGlobalMeterProvider(provider);
    sim = await UpstreamSimulator.start();
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      // One attempt per call: each scripted 500 is one failed call, and the breaker stays closed
      // (its own alert is not what this test is about).
      LLM_MAX_RETRIES: '0',
      LLM_BREAKER_FAILURES: '1000',
    });
    hooks = await AlertWebhookReceiver.start();
    const production = readFileSync(join(DEPLOY, 'alertmanager', 'alertmanager.yml'), 'utf8');
    alertmanager = await startAlertmanager(alertmanagerTestConfig(production, hooks.url));
    const rules = readFileSync(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8');
    prometheus = await startPrometheus({
      target: new URL(gateway.url).host,
      rules: { 'alerts.yml': shortenRuleWindows(rules, FACTOR).yaml },
      alertmanager: alertmanager.address,
    });
    traffic = new Traffic(gateway.url, `http://127.0.0.1:${sim.port}`);
  }, 30_000);

  afterAll(async () => {
    await traffic?.stop();
    await prometheus?.stop();
    await alertmanager?.stop();
    await hooks?.close();
    await gateway?.close();
    await sim?.close();
    await provider?.shutdown();
  });

  it('sends the 10 % warning to the notify receiver, and pages no one', async () => {
    // A few clean seconds first: the 6 s window then climbs to 12 % from below, never above it.
    await sleep(3000);
    traffic.failing(0.12);
    const warning = await hooks.waitFor(isAlert('warning', 'firing'), WAIT_MS, 'warning firing');
    expect(warning.receiver).toBe('notify');
    // Grouped by alert name, upstream and model (the error ratio has no model label).
    expect(warning.groupLabels).toEqual({ alertname: ALERT, llm_upstream: 'primary' });
    expect(warning.alerts[0]?.labels).toEqual(
      expect.objectContaining({ alertname: ALERT, llm_upstream: 'primary', severity: 'warning' }),
    );
    expect(hooks.notifications.filter((n) => n.receiver === 'page')).toEqual([]);
  }, 30_000);

  it('pages the page receiver above 20 %, while Alertmanager inhibits the warning', async () => {
    traffic.failing(0.5);
    const page = await hooks.waitFor(isAlert('critical', 'firing'), WAIT_MS, 'page firing');
    expect(page.receiver).toBe('page');
    // Prometheus still fires both: the warning's silence is Alertmanager's inhibition.
    expect(await firingInPrometheus()).toEqual(['critical', 'warning']);
    const warning = (await alertmanager.alerts()).find(
      (a) => a.labels.alertname === ALERT && a.labels.severity === 'warning',
    );
    expect(warning?.status.state).toBe('suppressed');
    expect(warning?.status.inhibitedBy).toHaveLength(1);
    // Routing never crossed: no page went to notify, no warning to page.
    const misrouted = hooks.notifications.filter(
      (n) =>
        (n.receiver === 'page' && isAlert('warning', 'firing')(n)) ||
        (n.receiver === 'notify' && isAlert('critical', 'firing')(n)),
    );
    expect(misrouted).toEqual([]);
  }, 30_000);

  it('resolves the page and the warning at their receivers once the errors stop', async () => {
    traffic.failing(0);
    const pageResolved = await hooks.waitFor(
      (n) => n.receiver === 'page' && isAlert('critical', 'resolved')(n),
      WAIT_MS,
      'page resolved',
    );
    const warningResolved = await hooks.waitFor(
      (n) => n.receiver === 'notify' && isAlert('warning', 'resolved')(n),
      WAIT_MS,
      'warning resolved',
    );
    expect(pageResolved.status).toBe('resolved');
    expect(warningResolved.status).toBe('resolved');
    expect(await firingInPrometheus()).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(100);
  }, 30_000);
});
