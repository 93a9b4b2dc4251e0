import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KibanaStandIn, NOT_READY, READY, runScript } from './support/kibana-stand-in';

const KIBANA_DIR = join(__dirname, '..', 'deploy', 'kibana');
const IMPORT_SCRIPT = join(KIBANA_DIR, 'import.mjs');
const NDJSON = readFileSync(join(KIBANA_DIR, 'business-impact.ndjson'), 'utf8');
const PASSWORD = 'pw-never-printed-7f3a';

describe('npm run kibana:import (deploy/kibana/import.mjs) against a Kibana stand-in', () => {
  let kibana: KibanaStandIn;
  const run = (env: Record<string, string> = {}) =>
    runScript(IMPORT_SCRIPT, {
      KIBANA_URL: kibana.url,
      KIBANA_RETRY_INTERVAL_MS: '10',
      KIBANA_WAIT_SECONDS: '5',
      ...env,
    });

  beforeEach(async () => {
    kibana = await KibanaStandIn.start();
  });
  afterEach(() => kibana.close());

  it('waits until Kibana is ready, then posts the NDJSON as a multipart file with kbn-xsrf and overwrite', async () => {
    kibana.status = [NOT_READY, NOT_READY, READY];
    kibana.importAnswer = { status: 200, body: { success: true, successCount: 15 } };

    const { code, stdout } = await run();

    expect(code).toBe(0);
    expect(kibana.requestsTo('/api/status')).toHaveLength(3);
    const [upload, ...others] = kibana.requestsTo('/api/saved_objects/_import');
    expect(others).toHaveLength(0);
    expect(upload!.method).toBe('POST');
    expect(new URL(upload!.url, kibana.url).searchParams.get('overwrite')).toBe('true');
    expect(upload!.headers['kbn-xsrf']).toBe('true');
    expect(upload!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload!.body).toContain('name="file"; filename="business-impact.ndjson"');
    expect(upload!.body).toContain(NDJSON);
    expect(stdout).toContain('Imported 15 saved objects');
    expect(stdout).toContain(`${kibana.url}/app/dashboards#/view/llm-business-impact`);
  });

  it('sends basic credentials in the Authorization header only, and never prints them', async () => {
    const { code, stdout, stderr } = await run({
      KIBANA_USERNAME: 'elastic',
      KIBANA_PASSWORD: PASSWORD,
    });

    expect(code).toBe(0);
    const basic = `Basic ${Buffer.from(`elastic:${PASSWORD}`).toString('base64')}`;
    expect(kibana.requests.map((r) => r.headers.authorization)).toEqual([basic, basic]);
    expect(stdout + stderr).not.toContain(PASSWORD);
  });

  it('sends an API key as `ApiKey`, into the space KIBANA_SPACE names', async () => {
    const { code } = await run({ KIBANA_API_KEY: 'a2V5OnNlY3JldA==', KIBANA_SPACE: 'ops' });

    expect(code).toBe(0);
    expect(kibana.requestsTo('/s/ops/api/saved_objects/_import')[0]?.headers.authorization).toBe(
      'ApiKey a2V5OnNlY3JldA==',
    );
  });

  it('fails naming each object Kibana rejected, and why, when the import reports errors', async () => {
    kibana.importAnswer = {
      status: 200,
      body: {
        success: false,
        successCount: 14,
        errors: [
          {
            id: 'llm-breaker-states',
            type: 'lens',
            meta: { title: 'Circuit breaker state by upstream' },
            error: {
              type: 'missing_references',
              references: [{ type: 'index-pattern', id: 'llm-calls' }],
            },
          },
        ],
      },
    };

    const { code, stderr } = await run();

    expect(code).toBe(1);
    expect(stderr).toContain(
      'lens "Circuit breaker state by upstream" (llm-breaker-states): missing_references [index-pattern:llm-calls]',
    );
  });

  it("fails with Kibana's own message when it refuses the import", async () => {
    kibana.importAnswer = {
      status: 415,
      body: { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type' },
    };

    const { code, stderr } = await run();

    expect(code).toBe(1);
    expect(stderr).toContain(
      'Kibana refused to import business-impact.ndjson (HTTP 415): Unsupported Media Type',
    );
  });

  it('fails at once, saying which variables to set, when Kibana wants credentials', async () => {
    kibana.status = [{ status: 401, body: { statusCode: 401, error: 'Unauthorized' } }];

    const { code, stderr } = await run();

    expect(code).toBe(1);
    expect(kibana.requests).toHaveLength(1);
    expect(stderr).toContain(
      'refused the request (HTTP 401): set KIBANA_API_KEY, or KIBANA_USERNAME and KIBANA_PASSWORD',
    );
  });

  it('gives up after KIBANA_WAIT_SECONDS when Kibana never becomes ready', async () => {
    kibana.status = [NOT_READY];

    const { code, stderr } = await run({ KIBANA_WAIT_SECONDS: '0.3' });

    expect(code).toBe(1);
    // Retrying until ready is the first test's; here the time is up however few checks fitted.
    expect(kibana.requestsTo('/api/status').length).toBeGreaterThanOrEqual(1);
    expect(kibana.requestsTo('/api/saved_objects/_import')).toHaveLength(0);
    expect(stderr).toContain(
      'was not ready within 0.3 s (last answer: HTTP 503, status unavailable)',
    );
  });
});
