import { setTimeout as sleep } from 'node:timers/promises';
import { drainGateway } from '../src/gateway/graceful-shutdown';
import { UpstreamPoliciesRegistry } from '../src/llm/resilience/upstream-policies.registry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { startGatewayProcess } from './support/gateway.process';
import { eventually } from './support/eventually';

const MESSAGES = [{ role: 'user', content: 'Hello' }];
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

interface Answer {
  status: number;
  text: string;
}

/** A plain or streaming call whose answer is read to its end. */
async function call(url: string, stream: boolean): Promise<Answer> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, stream }),
  });
  return { status: res.status, text: await res.text() };
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
    }
    await sleep(100);
    expect(sim.requests).toHaveLength(6);
    expect(app.get(UpstreamPoliciesRegistry).snapshots()).toEqual(breakersBefore);
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
});
