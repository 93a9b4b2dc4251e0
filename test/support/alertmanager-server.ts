import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { onFreePort, startServerProcess } from './server-process';

/** Debian's `prometheus-alertmanager` installs the server here; `.ci/run` installs the package. */
const ALERTMANAGER = process.env.ALERTMANAGER_BIN?.trim() || '/usr/bin/prometheus-alertmanager';

/** Whether an Alertmanager binary is installed. */
export function alertmanagerAvailable(): boolean {
  return existsSync(ALERTMANAGER);
}

interface Route {
  receiver?: string;
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
  [key: string]: unknown;
}
interface AlertmanagerConfig {
  route: Route;
  receivers: { name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

/** Timings of the test copy: notify at once, never repeat within a test. */
const TEST_TIMINGS = { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' };

/**
 * The production configuration (deploy/alertmanager/alertmanager.yml) for a test: the same
 * routing tree, grouping and inhibit rules, with every timing set short and every receiver
 * replaced by a webhook to `${webhookUrl}/<receiver name>`.
 */
export function alertmanagerTestConfig(production: string, webhookUrl: string): string {
  const config = parse(production) as AlertmanagerConfig;
  const shorten = (route: Route): void => {
    for (const key of Object.keys(TEST_TIMINGS) as (keyof typeof TEST_TIMINGS)[]) {
      if (route === config.route || route[key] !== undefined) route[key] = TEST_TIMINGS[key];
    }
    route.routes?.forEach(shorten);
  };
  shorten(config.route);
  config.receivers = config.receivers.map(({ name }) => ({
    name,
    webhook_configs: [{ url: `${webhookUrl}/${name}`, send_resolved: true }],
  }));
  return stringify(config);
}

/** An alert as Alertmanager's API v2 lists it. */
export interface AmAlert {
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[] };
}

/** A throw-away Alertmanager on a free loopback port, without clustering. */
export interface AlertmanagerServer {
  /** `127.0.0.1:port`, what Prometheus' `alerting` block wants. */
  address: string;
  /** Every alert it holds, with whether it is inhibited or silenced. */
  alerts(): Promise<AmAlert[]>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts Alertmanager with `config` (YAML), its state in a scratch directory. */
export function startAlertmanager(config: string): Promise<AlertmanagerServer> {
  return onFreePort((port) => start(port, config));
}

async function start(port: number, config: string): Promise<AlertmanagerServer> {
  const address = `127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'alertmanager',
    bin: ALERTMANAGER,
    prepare: (dir) => writeFileSync(join(dir, 'alertmanager.yml'), config),
    args: (dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      // An empty address turns the HA gossip (port 9094 on all interfaces) off.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    readyUrl: `http://${address}/-/ready`,
  });
  return {
    address,
    alerts: async () =>
      (await (await fetch(`http://${address}/api/v2/alerts`)).json()) as AmAlert[],
    output: () => server.output(),
    stop: () => server.stop(),
  };
}
