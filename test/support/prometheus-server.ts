import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { onFreePort, type ServerProcess, startServerProcess } from './server-process';

/** Debian's `prometheus` package installs the server here; `.ci/run` installs the package. */
const PROMETHEUS = process.env.PROMETHEUS_BIN?.trim() || '/usr/bin/prometheus';

/** Whether a Prometheus server binary is installed. */
export function prometheusAvailable(): boolean {
  return existsSync(PROMETHEUS);
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** `host:port` of the gateway, scraped under the job the alerts watch (`llm-gateway`). */
  target: string;
  /** Rule files by name, with their content. */
  rules?: Record<string, string>;
  /** `host:port` of an Alertmanager to send alerts to. */
  alertmanager?: string;
  /** Scrape and rule evaluation interval. @default '1s' */
  interval?: string;
}

/** One sample of an instant query. */
export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range query: `[unix seconds, value]` pairs. */
export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** One alert as GET /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** A throw-away Prometheus on a free loopback port, storing its data in a scratch directory. */
export interface PrometheusServer {
  url: string;
  /** An instant query; rejects with Prometheus' error (a parse error, say) when it fails. */
  query(expr: string): Promise<PromVectorSample[]>;
  /** A range query from `start` to `end` (unix seconds) every `step` seconds. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromMatrixSeries[]>;
  /** Pending and firing alerts. */
  alerts(): Promise<PromAlert[]>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus scraping one target every `interval` and evaluating `rules` as often. The
 * alert resend delay is cut to the interval too, so Alertmanager hears about a firing alert
 * within seconds.
 */
export function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  return onFreePort((port) => start(port, options));
}

async function start(port: number, options: PrometheusOptions): Promise<PrometheusServer> {
  const url = `http://127.0.0.1:${port}`;
  const interval = options.interval ?? '1s';
  const rules = options.rules ?? {};
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: Object.keys(rules),
    ...(options.alertmanager
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] } }
      : {}),
    scrape_configs: [{ job_name: 'llm-gateway', static_configs: [{ targets: [options.target] }] }],
  };
  const server: ServerProcess = await startServerProcess({
    name: 'prometheus',
    bin: PROMETHEUS,
    prepare: (dir) => {
      writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
      for (const [name, text] of Object.entries(rules)) writeFileSync(join(dir, name), text);
    },
    args: (dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--rules.alert.resend-delay=${interval}`,
      '--log.level=warn',
    ],
    readyUrl: `${url}/-/ready`,
  });
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) =>
      (await api<{ result: PromVectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`))
        .result,
    queryRange: async (expr, start, end, step) => {
      const params = new URLSearchParams({
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      });
      return (await api<{ result: PromMatrixSeries[] }>(`/api/v1/query_range?${params.toString()}`))
        .result;
    },
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    output: () => server.output(),
    stop: () => server.stop(),
  };
}
