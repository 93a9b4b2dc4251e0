import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { alertmanagerTestConfig } from './support/alertmanager-server';

// deploy/alertmanager/alertmanager.yml through Alertmanager's own tool (Debian's
// prometheus-alertmanager ships amtool), as `.ci/run` checks it too.
const CONFIG = join(__dirname, '..', 'deploy', 'alertmanager', 'alertmanager.yml');
const amtool = async (...args: string[]) =>
  (await promisify(execFile)('amtool', args)).stdout.trim();
const receiverOf = (...labels: string[]) =>
  amtool('config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels);

describe('Alertmanager configuration (deploy/alertmanager/alertmanager.yml)', () => {
  it('passes amtool check-config', async () => {
    await expect(amtool('check-config', CONFIG)).resolves.toContain('SUCCESS');
  });

  it('routes the page to "page", the warning to "notify" and tickets to "ticket"', async () => {
    const alert = ['alertname=LlmErrorRatioHigh', 'llm_upstream=primary'];
    expect(await receiverOf(...alert, 'severity=critical')).toBe('page');
    expect(await receiverOf(...alert, 'severity=warning')).toBe('notify');
    expect(await receiverOf('alertname=LlmErrorBudgetSlowBurn', 'severity=ticket')).toBe('ticket');
    // An alert without a known severity still reaches someone.
    expect(await receiverOf('alertname=Unknown')).toBe('notify');
  });

  it('inhibits a warning while the page of the same alert and upstream fires', () => {
    const config = parse(readFileSync(CONFIG, 'utf8')) as {
      inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
    };
    expect(config.inhibit_rules).toContainEqual({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ['alertname', 'llm_upstream'],
    });
  });

  it('keeps routes and inhibit rules in the e2e test copy, changing only timings and receivers', () => {
    const production = readFileSync(CONFIG, 'utf8');
    const copy = parse(alertmanagerTestConfig(production, 'http://127.0.0.1:1')) as Record<
      string,
      unknown
    >;
    const original = parse(production) as Record<string, unknown>;
    expect(copy.inhibit_rules).toEqual(original.inhibit_rules);
    const strip = (route: unknown): unknown =>
      JSON.parse(JSON.stringify(route), (key, value: unknown) =>
        ['group_wait', 'group_interval', 'repeat_interval'].includes(key) ? undefined : value,
      );
    expect(strip(copy.route)).toEqual(strip(original.route));
    expect(copy.receivers).toEqual([
      { name: 'page', webhook_configs: [{ url: 'http://127.0.0.1:1/page', send_resolved: true }] },
      {
        name: 'notify',
        webhook_configs: [{ url: 'http://127.0.0.1:1/notify', send_resolved: true }],
      },
      {
        name: 'ticket',
        webhook_configs: [{ url: 'http://127.0.0.1:1/ticket', send_resolved: true }],
      },
    ]);
  });
});
