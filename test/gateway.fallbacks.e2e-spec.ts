import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

interface ErrorBody {
  error: { message: string; type: string; code: string | null };
}

interface Chunk {
  model: string;
  choices: Array<{ delta: { content?: string | null } }>;
}

describe('gateway: LLM_FALLBACKS and the x-llm-* headers that report a fallback', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;
  let url: string;

  /** Boots the gateway against `sim` without retries: a 503 moves the call at once. */
  async function boot(env: Record<string, string> = {}): Promise<void> {
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_MAX_RETRIES: '0',
      ...env,
    });
    url = gateway.url;
  }

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await sim.close();
  });

  const post = (body: unknown) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const requestedModels = () => sim.requests.map((r) => (r.body as { model?: string }).model);

  it('answers from gpt-4o-mini when gpt-4o is overloaded, and says so in headers', async () => {
    await boot({ LLM_FALLBACKS: 'gpt-4o=gpt-4o-mini' });
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'Hi from mini' },
    ]);
    const res = await post({ model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; choices: Array<{ message: unknown }> };
    expect(body.choices[0]?.message).toMatchObject({ content: 'Hi from mini' });
    expect(requestedModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(res.headers.get('x-llm-model')).toBe('gpt-4o-mini');
    expect(res.headers.get('x-llm-fallbacks')).toBe('1');
    // A 503 is classified as `overloaded` (src/llm/resilience/error-classifier.ts).
    expect(res.headers.get('x-llm-fallback-reason')).toBe('overloaded');
    expect(res.headers.get('x-llm-attempts')).toBe('2');
  });

  it('names the model and no fallback when the requested model answers', async () => {
    await boot({ LLM_FALLBACKS: 'gpt-4o=gpt-4o-mini' });
    sim.script([{ type: 'ok', content: 'Hi' }]);
    const res = await post({ model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-model')).toBe('gpt-4o');
    expect(res.headers.has('x-llm-fallbacks')).toBe(false);
    expect(res.headers.has('x-llm-fallback-reason')).toBe(false);
    expect(requestedModels()).toEqual(['gpt-4o']);
  });

  it('without LLM_FALLBACKS, the 503 comes back as an OpenAI-shaped error', async () => {
    await boot();
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'never sent' },
    ]);
    const res = await post({ model: 'gpt-4o', messages: MESSAGES });
    expect({ status: res.status, error: ((await res.json()) as ErrorBody).error }).toMatchObject({
      status: 503,
      error: { type: 'service_unavailable_error', code: 'overloaded' },
    });
    expect(requestedModels()).toEqual(['gpt-4o']);
  });

  it('sends the fallback headers when an SSE stream starts on the fallback model', async () => {
    await boot({ LLM_FALLBACKS: 'gpt-4o=gpt-4o-mini' });
    sim.script([
      { type: 'error', status: 503 },
      { type: 'stream', chunks: ['Hel', 'lo'] },
    ]);
    const res = await post({ model: 'gpt-4o', messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-llm-model')).toBe('gpt-4o-mini');
    expect(res.headers.get('x-llm-fallbacks')).toBe('1');
    expect(res.headers.get('x-llm-fallback-reason')).toBe('overloaded');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello');
    expect(requestedModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});
