import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { SimConfig } from '../src/simulator/simulator.types';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';

const MESSAGES = [{ role: 'user', content: 'Hello there' }];

interface OpenAiError {
  error: { message: string; type: string; code: string | null };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function chat(sim: UpstreamSimulator, body: object = {}): Promise<Response> {
  return fetch(`${sim.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, ...body }),
  });
}

/** Sends `n` requests at once; their statuses in the order sent. */
async function burst(sim: UpstreamSimulator, n: number, body: object = {}): Promise<Response[]> {
  return Promise.all(Array.from({ length: n }, () => chat(sim, body)));
}

const statuses = (responses: Response[]): number[] => responses.map((r) => r.status).sort();

/** Waits until `offsetMs` into the next clock interval, so a burst lands inside one interval. */
async function startOfInterval(intervalMs: number, offsetMs = 20): Promise<void> {
  await delay(intervalMs - (Date.now() % intervalMs) + offsetMs);
}

describe('UpstreamSimulator rate enforcement', () => {
  let sim: UpstreamSimulator;

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(() => sim.close());

  describe('interval (Azure: "typically 1 or 10 seconds")', () => {
    it('allows limit / 60 per 1 s interval and answers OpenAI hints up to its end', async () => {
      sim.configure({ rpm: 120, enforcement: 'interval', intervalMs: 1_000 });
      await startOfInterval(1_000);
      const responses = await burst(sim, 3);
      expect(statuses(responses)).toEqual([200, 200, 429]);
      const limited = responses.find((r) => r.status === 429)!;
      const waitMs = Number(limited.headers.get('retry-after-ms'));
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(1_000);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('x-ratelimit-limit-requests')).toBe('120');
      expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(limited.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+ms$/);
      const body = (await limited.json()) as OpenAiError;
      expect(body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      expect(body.error.message).toContain('enforced per 1s');
      // The hint is exact: the next interval admits again.
      await delay(waitMs);
      expect((await chat(sim)).status).toBe(200);
    });

    it('allows limit × 10 / 60 per 10 s interval', async () => {
      sim.configure({ rpm: 30, enforcement: 'interval', intervalMs: 10_000 });
      // Far enough from the next 10 s boundary for the burst to land in one interval.
      if (10_000 - (Date.now() % 10_000) < 1_000) await startOfInterval(10_000);
      const responses = await burst(sim, 7);
      expect(statuses(responses)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = responses.find((r) => r.status === 429)!;
      expect(Number(limited.headers.get('retry-after-ms'))).toBeGreaterThan(500);
    });

    it('counts tokens per interval, in-flight estimates included', async () => {
      // 6000 per minute is 100 tokens per second; each request is estimated at 3 + 40.
      sim.configure({ tpm: 6_000, enforcement: 'interval', intervalMs: 1_000, latencyMs: 150 });
      await startOfInterval(1_000);
      const responses = await burst(sim, 3, { max_tokens: 40 });
      expect(statuses(responses)).toEqual([200, 200, 429]);
      const limited = responses.find((r) => r.status === 429)!;
      expect(((await limited.json()) as OpenAiError).error.type).toBe('tokens');
      expect(limited.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
      expect(limited.headers.get('x-ratelimit-limit-tokens')).toBe('6000');
    });
  });

  describe('bucket', () => {
    it('allows a burst of its capacity, then refills at the per-minute rate', async () => {
      // 60 per minute with a 5 s bucket: 5 at once, then one per second.
      sim.configure({ rpm: 60, enforcement: 'bucket', burstMs: 5_000 });
      const responses = await burst(sim, 7);
      expect(statuses(responses)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = responses.find((r) => r.status === 429)!;
      const waitMs = Number(limited.headers.get('retry-after-ms'));
      expect(waitMs).toBeGreaterThan(500);
      expect(waitMs).toBeLessThanOrEqual(1_000);
      expect(((await limited.json()) as OpenAiError).error.message).toContain('bucket of 5s');
      await delay(waitMs);
      expect(statuses(await burst(sim, 2))).toEqual([200, 429]);
    });

    it('counts tokens in the same bucket and corrects them with the real usage', async () => {
      // 600 tokens per minute with a 10 s bucket: 100 tokens, 10 more per second.
      sim.configure({ tpm: 600, enforcement: 'bucket', burstMs: 10_000, latencyMs: 150 });
      const responses = await burst(sim, 3, { max_tokens: 40 });
      expect(statuses(responses)).toEqual([200, 200, 429]);
      const ok = responses.find((r) => r.status === 200)!;
      const used = ((await ok.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
      // After both answers, the bucket holds 100 minus their real usage, not their estimates.
      const next = await chat(sim, { max_tokens: 10 });
      const remaining = Number(next.headers.get('x-ratelimit-remaining-tokens'));
      expect(remaining).toBeGreaterThanOrEqual(100 - 3 * used - 13);
      expect(remaining).toBeLessThan(100 - 2 * used);
    });
  });

  describe('sliding (the minute of old)', () => {
    it('lets a whole minute budget through at once', async () => {
      sim.configure({ rpm: 5, enforcement: 'sliding', windowMs: 60_000 });
      expect(statuses(await burst(sim, 6))).toEqual([200, 200, 200, 200, 200, 429]);
    });
  });

  describe('Azure hints', () => {
    it('answers retry-after in whole seconds and Azure’s error body, no OpenAI headers', async () => {
      sim.configure({ rpm: 60, enforcement: 'interval', intervalMs: 1_000, provider: 'azure' });
      await startOfInterval(1_000);
      const responses = await burst(sim, 2);
      expect(statuses(responses)).toEqual([200, 429]);
      const ok = responses.find((r) => r.status === 200)!;
      expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(ok.headers.get('x-ratelimit-limit-requests')).toBeNull();
      const limited = responses.find((r) => r.status === 429)!;
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('retry-after-ms')).toBeNull();
      expect(limited.headers.get('x-ratelimit-reset-requests')).toBeNull();
      const body = (await limited.json()) as { error: Record<string, unknown> };
      expect(body.error.code).toBe('429');
      expect(body.error.message).toMatch(
        /exceeded call rate limit of your current OpenAI S0 pricing tier\. Please retry after 1 second\./,
      );
    });

    it('words a token limit as Azure does', async () => {
      sim.configure({ tpm: 60, enforcement: 'bucket', burstMs: 20_000, provider: 'azure' });
      // The bucket holds 20 tokens; the first request takes them, the second waits for 19+.
      await chat(sim, { max_tokens: 30 });
      const limited = await chat(sim, { max_tokens: 16 });
      expect(limited.status).toBe(429);
      const { error } = (await limited.json()) as { error: { message: string } };
      expect(error.message).toMatch(
        /exceeded token rate limit .* Please retry after \d+ seconds\./,
      );
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(1);
    });
  });

  describe('control API', () => {
    const controlUrl = (name: string) => sim.baseUrl.replace(/\/v1$/, `/_sim/${name}`);

    it('switches the mode over HTTP and records each request with the status it got', async () => {
      const config: Partial<SimConfig> = { rpm: 60, enforcement: 'interval', intervalMs: 10_000 };
      const res = await fetch(controlUrl('config'), {
        method: 'POST',
        body: JSON.stringify(config),
      });
      expect(((await res.json()) as { config: object }).config).toMatchObject(config);
      if (10_000 - (Date.now() % 10_000) < 1_000) await startOfInterval(10_000);
      await burst(sim, 12);
      const recorded = (await (await fetch(controlUrl('requests'))).json()) as {
        requests: Array<{ status?: number }>;
      };
      const counts = recorded.requests.map((r) => r.status).sort();
      expect(counts).toEqual([...Array<number>(10).fill(200), 429, 429]);
    });

    it.each([
      [{ enforcement: 'minute' }, 'body.enforcement'],
      [{ provider: 'anthropic' }, 'body.provider'],
      [{ intervalMs: 0 }, 'body.intervalMs'],
      [{ burstMs: -1 }, 'body.burstMs'],
    ])('answers 400 naming the bad field (%j)', async (body, field) => {
      const res = await fetch(controlUrl('config'), { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(field);
    });
  });
});

describe('npm run simulator', () => {
  it('takes the mode from flags and env, a flag winning over its variable', async () => {
    const entry = path.join(__dirname, '..', 'src', 'simulator', 'main.ts');
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', entry, '--enforcement', 'interval', '--interval-ms', '10000'],
      {
        env: {
          PATH: process.env.PATH,
          SWC_NODE_IGNORE_DYNAMIC: '1',
          SIM_PORT: '0',
          SIM_RPM: '600',
          SIM_ENFORCEMENT: 'bucket',
          SIM_PROVIDER: 'azure',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const baseUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          out += text;
          const match = /listening on (\S+)\/v1/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const { config } = (await (await fetch(`${baseUrl}/_sim/config`)).json()) as {
        config: object;
      };
      expect(config).toMatchObject({
        rpm: 600,
        enforcement: 'interval',
        intervalMs: 10_000,
        provider: 'azure',
      });
    } finally {
      child.kill('SIGTERM');
    }
  }, 20_000);

  it('refuses an unknown mode, naming the flag and the variable', async () => {
    const entry = path.join(__dirname, '..', 'src', 'simulator', 'main.ts');
    const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
      env: { PATH: process.env.PATH, SIM_PORT: '0', SIM_ENFORCEMENT: 'minute' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain(
      '--enforcement / SIM_ENFORCEMENT must be one of sliding, interval, bucket',
    );
  }, 20_000);
});
