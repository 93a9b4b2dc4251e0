import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prometheusExporter } from '../../src/gateway/prometheus-exporter';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator';
import { startInProcessGateway } from '../support/gateway-app';
import { startPrometheus } from '../support/prometheus-server';
import {
  type PanelSeries,
  type PreviewPhase,
  renderDashboardPreview,
} from './dashboard-preview.plot';

// A rendering of the Grafana dashboard without Grafana (none can be installed here): the real
// gateway in front of the simulator goes through a scripted incident while a real Prometheus
// scrapes it every second; then every panel query of deploy/grafana/dashboards/llm-trends.json
// is evaluated over the incident and drawn, panel by panel, in the dashboard's order.
//   SWC_NODE_IGNORE_DYNAMIC=1 node -r @swc-node/register bench/dashboard-preview.ts
const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'docs', 'images', 'llm-trends-preview.png');
const WORKERS = 4;
// Windows shortened as in the alerting e2e test: the incident lasts 80 s, not an hour.
const RATE_WINDOW = '5s';
const STAT_WINDOW = '10s';

const PHASES: PreviewPhase[] = [
  { from: 0, to: 15, label: '2 % 500s' },
  { from: 15, to: 35, label: 'limit 8 req/s' },
  { from: 35, to: 55, label: 'outage (503)' },
  { from: 55, to: 80, label: 'recovered' },
];

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string; legendFormat?: string }[];
}

async function main(): Promise<void> {
  const provider = new MeterProvider({ readers: [prometheusExporter] });
  metrics.setGlobalMeterProvider(provider);
  const sim = await UpstreamSimulator.start({ latencyMs: 30 });
  const simUrl = `http://127.0.0.1:${sim.port}`;
  const gateway = await startInProcessGateway({
    LLM_BASE_URL: sim.baseUrl,
    LLM_RPM: '1200',
    LLM_RETRY_BASE_MS: '50',
    LLM_RETRY_MAX_MS: '500',
    LLM_BREAKER_HALF_OPEN_MS: '3000',
  });
  const prometheus = await startPrometheus({ target: new URL(gateway.url).host });
  try {
    const start = Date.now() / 1000;
    let running = true;
    let failShare = 0.02;
    let owed = 0;
    const features = ['support-chat', 'summaries'];
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; running; i++) {
        owed += failShare;
        if (owed >= 1) {
          owed -= 1;
          await control(simUrl, 'script', { steps: [{ type: 'error', status: 500 }] });
        }
        const res = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-feature-name': features[(n + i) % 2]! },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'Where is my order?' }] }),
        });
        await res.arrayBuffer();
        await sleep(200);
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));
    const at = async (second: number) =>
      sleep(Math.max(0, start + second - Date.now() / 1000) * 1000);
    await at(PHASES[1]!.from);
    failShare = 0;
    await control(simUrl, 'config', { rpm: 8, windowMs: 1000 });
    await at(PHASES[2]!.from);
    await control(simUrl, 'config', { rpm: null });
    await control(simUrl, 'outage', {
      status: 503,
      durationMs: (PHASES[2]!.to - PHASES[2]!.from) * 1000,
    });
    await at(PHASES[3]!.to);
    running = false;
    await Promise.all(workers);
    await sleep(2000);

    const end = Date.now() / 1000;
    const file = path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'llm-trends.json');
    const dashboard = JSON.parse(await readFile(file, 'utf8')) as { panels: Panel[] };
    const panels: PanelSeries[] = [];
    for (const panel of dashboard.panels.filter((p) => p.targets)) {
      const series: PanelSeries['series'] = [];
      for (const target of panel.targets!) {
        const expr = target.expr
          .replaceAll('$__rate_interval', RATE_WINDOW)
          .replaceAll('[5m]', `[${STAT_WINDOW}]`)
          .replaceAll('$upstream', '.*');
        for (const s of await prometheus.queryRange(expr, start, end, 1)) {
          const name = (target.legendFormat ?? '').replace(
            /\{\{(\w+)\}\}/g,
            (_, l: string) => s.metric[l] ?? '',
          );
          series.push({
            name,
            points: s.values
              .map(([t, v]) => ({ t: t - start, v: Number(v) }))
              .filter((p) => Number.isFinite(p.v)),
          });
        }
      }
      panels.push({ title: panel.title, state: panel.type === 'state-timeline', series });
    }
    await mkdir(path.dirname(OUT), { recursive: true });
    await writeFile(OUT, await renderDashboardPreview(panels, PHASES));
    console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
  } finally {
    await prometheus.stop();
    await gateway.close();
    await sim.close();
    await provider.shutdown();
  }
}

async function control(simUrl: string, route: string, body: object): Promise<void> {
  const res = await fetch(`${simUrl}/_sim/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /_sim/${route}: ${res.status} ${await res.text()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
