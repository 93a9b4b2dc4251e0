import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { parse } from 'yaml';
import { MetricsController } from '../src/gateway/metrics.controller';

// The deploy files must agree with each other and with the code: a wrong port, path or service
// name here only shows up after `docker compose up`, when nothing reaches Prometheus or Jaeger.
const ROOT = resolve(__dirname, '..');
const readYaml = <T>(path: string): T => parse(readFileSync(join(ROOT, path), 'utf8')) as T;

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface Collector {
  receivers: { otlp: { protocols: Record<'grpc' | 'http', { endpoint: string }> } };
  exporters: Record<string, { endpoint?: string }>;
  service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
}
interface PrometheusConfig {
  rule_files: string[];
  alerting?: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    static_configs: { targets: string[] }[];
  }[];
}

const compose = readYaml<{ services: Record<string, Service> }>('docker-compose.yml');
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
};
const env = (name: string, key: string): string => {
  const value = service(name).environment?.[key];
  if (value === undefined) throw new Error(`service '${name}' does not set ${key}`);
  return value;
};
/** The host file a container path comes from, through the service's bind mounts. */
const hostPathOf = (name: string, containerPath: string): string => {
  for (const volume of service(name).volumes ?? []) {
    const [host = '', target = ''] = volume.split(':');
    if (!host.startsWith('.')) continue;
    const relative = posix.relative(target, containerPath);
    if (!relative.startsWith('..')) return join(ROOT, host, relative);
  }
  throw new Error(`no bind mount of service '${name}' covers ${containerPath}`);
};
const hostPort = (endpoint: string): { host: string; port: string } => {
  const { hostname, port } = new URL(endpoint.includes('//') ? endpoint : `tcp://${endpoint}`);
  return { host: hostname, port };
};

describe('docker-compose.yml and deploy/', () => {
  it('publishes every port on 127.0.0.1 only', () => {
    const ports = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(5);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('waits only on services that exist, and on health checks only where one is defined', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect([name, target, services[target] !== undefined]).toEqual([name, target, true]);
        if (condition === 'service_healthy') {
          expect([target, service(target).healthcheck?.test.length]).toEqual([
            target,
            expect.any(Number),
          ]);
        }
      }
    }
  });

  it('points the gateway at the simulator and Elasticsearch by service name and port', () => {
    const llm = hostPort(env('gateway', 'LLM_BASE_URL'));
    expect(llm).toEqual({ host: 'simulator', port: env('simulator', 'SIM_PORT') });
    const es = hostPort(env('gateway', 'ELASTICSEARCH_URL'));
    expect(es.host).toBe('elasticsearch');
    expect(service('elasticsearch').ports).toContain(`127.0.0.1:${es.port}:${es.port}`);
    expect(hostPort(env('gateway', 'REDIS_URL')).host).toBe('redis');
  });

  it('has Prometheus load prometheus.yml and its rule files from deploy/prometheus', () => {
    const flag = service('prometheus').command?.find((a) => a.startsWith('--config.file='));
    const configPath = hostPathOf('prometheus', flag!.slice('--config.file='.length));
    expect(configPath).toBe(join(ROOT, 'deploy/prometheus/prometheus.yml'));
    const config = readYaml<PrometheusConfig>('deploy/prometheus/prometheus.yml');
    expect(config.rule_files).toContain('alerts.yml');
    for (const file of config.rule_files) {
      expect(existsSync(join(dirname(configPath), file))).toBe(true);
    }
  });

  it('scrapes the gateway where it serves GET /metrics, under the job the alerts watch', () => {
    const config = readYaml<PrometheusConfig>('deploy/prometheus/prometheus.yml');
    const job = config.scrape_configs.find((c) => c.job_name === 'llm-gateway');
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([
      `gateway:${env('gateway', 'PORT')}`,
    ]);
    const route = Reflect.getMetadata(PATH_METADATA, MetricsController) as string;
    expect(job?.metrics_path ?? '/metrics').toBe(`/${route}`);
    const alerts = readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
    expect(alerts).toContain('up{job="llm-gateway"}');
  });

  it('sends the gateway traces to the collector, and the collector traces to Jaeger', () => {
    const flag = service('otel-collector').command?.find((a) => a.startsWith('--config='));
    const configPath = hostPathOf('otel-collector', flag!.slice('--config='.length));
    expect(configPath).toBe(join(ROOT, 'deploy/otel-collector/config.yaml'));
    const collector = readYaml<Collector>('deploy/otel-collector/config.yaml');

    // http/protobuf goes to the OTLP HTTP receiver.
    expect(env('gateway', 'OTEL_EXPORTER_OTLP_PROTOCOL')).toBe('http/protobuf');
    const target = hostPort(env('gateway', 'OTEL_EXPORTER_OTLP_ENDPOINT'));
    expect(target.host).toBe('otel-collector');
    expect(hostPort(collector.receivers.otlp.protocols.http.endpoint).port).toBe(target.port);
    expect(service('otel-collector').ports).toContain(`127.0.0.1:${target.port}:${target.port}`);

    const traces = collector.service.pipelines.traces;
    expect(traces?.receivers).toContain('otlp');
    const exporterHosts = (traces?.exporters ?? []).map((name) => {
      const endpoint = collector.exporters[name]?.endpoint;
      return endpoint ? hostPort(endpoint) : undefined;
    });
    // Jaeger takes OTLP gRPC on 4317; its UI is published on 16686.
    expect(exporterHosts).toContainEqual({ host: 'jaeger', port: '4317' });
    expect(service('jaeger').ports).toContain('127.0.0.1:16686:16686');
  });

  it('has the one-shot Kibana service run the import script of deploy/kibana against Kibana', () => {
    const setup = service('kibana-setup');
    const script = setup.command?.find((arg) => arg.endsWith('.mjs'));
    expect(existsSync(hostPathOf('kibana-setup', script!))).toBe(true);
    expect(hostPort(env('kibana-setup', 'KIBANA_URL'))).toEqual({ host: 'kibana', port: '5601' });
    expect(setup.depends_on?.kibana?.condition).toBe('service_healthy');
  });

  it('pins and health-checks Alertmanager and Grafana, and mounts their config from deploy/', () => {
    for (const name of ['alertmanager', 'grafana']) {
      // A tag with a version number, never `latest` or none.
      expect([name, service(name).image]).toEqual([
        name,
        expect.stringMatching(/:v?\d+\.\d+\.\d+$/),
      ]);
      expect([name, service(name).healthcheck?.test.length]).toEqual([name, expect.any(Number)]);
    }
    const flag = service('alertmanager').command?.find((a) => a.startsWith('--config.file='));
    const configPath = hostPathOf('alertmanager', flag!.slice('--config.file='.length));
    expect(configPath).toBe(join(ROOT, 'deploy/alertmanager/alertmanager.yml'));
    for (const path of ['provisioning/datasources', 'provisioning/dashboards']) {
      expect(existsSync(hostPathOf('grafana', `/etc/grafana/${path}`))).toBe(true);
    }
  });

  it('has Prometheus send alerts to Alertmanager, and Grafana read Prometheus, by service name', () => {
    const config = readYaml<PrometheusConfig>('deploy/prometheus/prometheus.yml');
    const targets = config.alerting?.alertmanagers.flatMap((a) =>
      a.static_configs.flatMap((c) => c.targets),
    );
    expect(targets).toEqual(['alertmanager:9093']);
    expect(service('alertmanager').ports).toContain('127.0.0.1:9093:9093');
    const datasources = readYaml<{ datasources: { type: string; url: string }[] }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(datasources.map((d) => [d.type, hostPort(d.url)])).toEqual([
      ['prometheus', { host: 'prometheus', port: '9090' }],
    ]);
    // The dashboard provider's folder is where the generated dashboards are mounted.
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      'deploy/grafana/provisioning/dashboards/llm.yml',
    ).providers;
    for (const { options } of providers) {
      const dashboard = hostPathOf('grafana', `${options.path}/llm-trends.json`);
      expect(dashboard).toBe(join(ROOT, 'deploy/grafana/dashboards/llm-trends.json'));
      expect(existsSync(dashboard)).toBe(true);
    }
  });
});
