import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainGateway } from '../src/gateway/graceful-shutdown';
import { UpstreamPoliciesRegistry } from '../src/llm/resilience/upstream-policies.registry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { startGatewayProcess } from './support/gateway.process';
import { eventually } from './support/eventually';
import { RedisServer } from './support/redis-server';

const MESSAGES = [{ role: 'user', content: 'Hello' }];
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

interface Answer {
  status: number;
  text: string;
  shouldRetry: string | null;
}

/** A plain or streaming call whose answer is read to its end. */
async function call(url: string, stream: boolean): Promise<Answer> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, stream }),
  });
  return {
    status: res.status,
    text: await res.text(),
    shouldRetry: res.headers.get('x-should-retry'),
  };
}

describe('graceful drain on shutdown', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await sim.close();
  });

  it('lets 20 plain calls and 5 streams in flight finish, with readiness failing at once and no breaker transition', async () => {
    sim.configure({ latencyMs: 800 });
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_DRAIN_TIMEOUT_MS: '10000' });
    const { url, app } = gateway;
    const breakersBefore = app.get(UpstreamPoliciesRegistry).snapshots();
    const calls = [
      ...Array.from({ length: 20 }, () => call(url, false)),
      ...Array.from({ length: 5 }, () => call(url, true)),
    ];
    await eventually(() => sim.requests.length === 25);
    const drained = drainGateway(app, { delayMs: 200, logger: silent });
    // Readiness fails at once; liveness still answers.
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const result = await drained;
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.status)).toEqual(Array(25).fill(200));
    expect(answers.slice(20).every((a) => a.text.trimEnd().endsWith('data: [DONE]'))).toBe(true);
    expect(result).toMatchObject({ ended: 0 });
    // Nothing retried, nothing counted: the breakers never moved.
    expect(sim.requests).toHaveLength(25);
    expect(app.get(UpstreamPoliciesRegistry).snapshots()).toEqual(breakersBefore);
  });

  it('ends what a hanging upstream holds at the drain timeout with shutting_down, sending nothing new', async () => {
    sim.script([{ type: 'hang', repeat: 6 }]);
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_DRAIN_TIMEOUT_MS: '400' });
    const { url, app } = gateway;
    const breakersBefore = app.get(UpstreamPoliciesRegistry).snapshots();
    const calls = [...Array.from({ length: 5 }, () => call(url, false)), call(url, true)];
    await eventually(() => sim.requests.length === 6);
    const result = await drainGateway(app, { delayMs: 50, logger: silent });
    const answers = await Promise.all(calls);
    expect(result).toMatchObject({ inFlightAtStart: 6, ended: 6 });
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'shutting_down' } });
      // Cut by this replica, not given up: the client's SDK sends it again (to another one).
      expect(answer.shouldRetry).toBe('true');
    }
    await sleep(100);
    expect(sim.requests).toHaveLength(6);
    expect(app.get(UpstreamPoliciesRegistry).snapshots()).toEqual(breakersBefore);
  });

  it('closes every connection after its answer once draining, and refuses a call on a kept one once it stops accepting', async () => {
    sim.script([
      { type: 'ok', content: 'first' },
      { type: 'stream', chunks: Array.from({ length: 12 }, (_, i) => `s${i} `), delayMs: 100 },
    ]);
    sim.configure({ latencyMs: 300 });
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_DRAIN_TIMEOUT_MS: '5000' });
    const { url, app } = gateway;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = () =>
      new Promise<{ status?: number; headers: http.IncomingHttpHeaders; text: string }>(
        (resolve, reject) => {
          const req = http.request(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            agent,
          });
          req.once('response', (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (piece: string) => (text += piece));
            res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
          });
          req.once('error', reject);
          req.end(JSON.stringify({ messages: MESSAGES }));
        },
      );
    // In flight when the drain starts: answered on its kept connection, which stays open; a
    // stream keeps the drain going meanwhile.
    const first = send();
    await eventually(() => sim.requests.length === 1);
    const stream = call(url, true);
    await eventually(() => sim.requests.length === 2);
    const drained = drainGateway(app, { delayMs: 100, logger: silent });
    expect((await first).status).toBe(200);
    // Past the delay, on the kept connection: refused at once, sent elsewhere, nothing upstream.
    const late = await send();
    expect(late.status).toBe(503);
    expect(late.headers.connection).toBe('close');
    expect(late.headers['x-should-retry']).toBe('true');
    expect(late.headers['x-request-id']).toMatch(/^[\w.:@/+=-]{8,}$/);
    expect(JSON.parse(late.text)).toMatchObject({ error: { code: 'shutting_down' } });
    expect(sim.requests).toHaveLength(2);
    expect((await stream).status).toBe(200);
    await drained;
    agent.destroy();
  });

  it('answers calls during the delay with Connection: close, so clients reconnect elsewhere', async () => {
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_DRAIN_TIMEOUT_MS: '2000' });
    const { url, app } = gateway;
    const drained = drainGateway(app, { delayMs: 300, logger: silent });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    await res.text();
    await drained;
  });

  it('SIGTERM with a hanging upstream: the process exits within the drain timeout plus 1 s', async () => {
    sim.script([{ type: 'hang', repeat: 3 }]);
    const child = await startGatewayProcess({
      LLM_BASE_URL: sim.baseUrl,
      LLM_EVENTS_LOG: 'false',
      LLM_DRAIN_TIMEOUT_MS: '1000',
      GATEWAY_SHUTDOWN_DELAY_MS: '100',
    });
    const calls = Array.from({ length: 3 }, () => call(child.url, false));
    await eventually(() => sim.requests.length === 3);
    const started = Date.now();
    await child.stop();
    const tookMs = Date.now() - started;
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(tookMs).toBeLessThan(1000 + 1000);
    expect(sim.requests).toHaveLength(3);
    expect(child.output()).toMatch(/ended by the drain timeout/);
  });

  it('a gateway that cannot listen (port taken) exits, though it holds connections (Redis)', async () => {
    const redis = await RedisServer.start();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: path.join(__dirname, '..'),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        LLM_BASE_URL: sim.baseUrl,
        LLM_RPM: '600',
        REDIS_URL: redis.url,
        LLM_EVENTS_LOG: 'false',
        SWC_NODE_IGNORE_DYNAMIC: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    try {
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 10_000);
        child.once('exit', (exitCode) => (clearTimeout(timer), resolve(exitCode)));
      });
      expect(code).toBe(1);
      // Node's own message names neither variable.
      expect(stderr).toContain(
        `Cannot listen on 127.0.0.1:${port}: the port is in use. Set PORT to a free port.`,
      );
    } finally {
      child.kill('SIGKILL');
      taken.close();
      await redis.close();
    }
  });
});
