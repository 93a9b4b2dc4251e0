import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

/** The `data:` lines of an SSE body, `[DONE]` included. */
function dataLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice('data: '.length));
}

describe('gateway: LLM_STREAM_USAGE', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ apiKey: 'sk-usage-test' });
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    sim.reset();
  });
  afterAll(async () => {
    await sim.close();
  });

  const stream = async (body: object): Promise<string[]> => {
    const res = await fetch(`${gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES, stream: true, ...body }),
    });
    expect(res.status).toBe(200);
    return dataLines(await res.text());
  };

  it('asks the upstream for the usage, and sends the client only what it asked for', async () => {
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-usage-test',
      LLM_STREAM_USAGE: 'always',
    });
    const plain = await stream({});
    expect((sim.requests[0]?.body as { stream_options?: unknown }).stream_options).toEqual({
      include_usage: true,
    });
    expect(plain.at(-1)).toBe('[DONE]');
    const chunks = plain.slice(0, -1).map((line) => JSON.parse(line) as { choices: unknown[] });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
    // Nor the `"usage": null` of every chunk of a stream that asked for it.
    expect(plain.filter((line) => line.includes('"usage"'))).toEqual([]);
    // Asked for by the client: its usage chunk reaches it, last before [DONE].
    const asked = await stream({ stream_options: { include_usage: true } });
    const last = JSON.parse(asked.at(-2)!) as {
      choices: unknown[];
      usage: { total_tokens: number };
    };
    expect(last.choices).toEqual([]);
    expect(last.usage.total_tokens).toBeGreaterThan(0);
  });

  it('leaves the request as the client wrote it by default against a server that is not OpenAI', async () => {
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, LLM_API_KEY: 'sk-usage-test' });
    await stream({});
    expect((sim.requests[0]?.body as { stream_options?: unknown }).stream_options).toBeUndefined();
  });
});
