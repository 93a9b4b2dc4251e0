import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

describe('gateway: OpenAI-compatible API over the simulator', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let url: string;

  beforeEach(async () => {
    sim = await UpstreamSimulator.start({ apiKey: 'sk-gateway-test' });
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-gateway-test',
      LLM_MODELS: 'gpt-4o, o3-mini',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
    url = gateway.url;
  });
  afterEach(async () => {
    await gateway.close();
    await sim.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers a plain completion with the call metadata in headers', async () => {
    sim.script([{ type: 'ok', content: 'Hi there' }]);
    const res = await post({ messages: MESSAGES }, { 'x-request-id': 'req-abc-1' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: Array<{ message: unknown }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hi there' });
    expect(res.headers.get('x-llm-attempts')).toBe('1');
    expect(res.headers.get('x-llm-upstream-request-id')).toMatch(/^req_/);
    expect(res.headers.get('x-request-id')).toBe('req-abc-1');
  });

  it('passes x-user-id and x-feature-name on, and sends the gateway key upstream', async () => {
    sim.script([{ type: 'ok', content: 'ok' }]);
    const res = await post(
      { messages: MESSAGES },
      { 'x-user-id': 'u-42', 'x-feature-name': 'chat' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]?.hadAuthorization).toBe(true);
  });

  it('streams SSE chunks and ends with [DONE]', async () => {
    sim.script([{ type: 'stream', chunks: ['Hel', 'lo', '!'] }]);
    const res = await post({ messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-llm-attempts')).toBe('1');
    expect(res.headers.get('x-llm-upstream-request-id')).toMatch(/^req_/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
  });

  it('answers a plain completion for "stream": null (OpenAI\'s default)', async () => {
    sim.script([{ type: 'ok', content: 'Not streamed' }]);
    const res = await post({ messages: MESSAGES, stream: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { object: string; choices: Array<{ message: unknown }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]?.message).toMatchObject({ content: 'Not streamed' });
  });

  // With OpenAI's own code for each mistake, as a client switching on it expects.
  it.each([
    ['messages missing', { model: 'gpt-4o' }, 'messages', 'missing_required_parameter'],
    ['messages empty', { messages: [] }, 'messages', 'empty_array'],
    ['messages not an array', { messages: 'Hi' }, 'messages', 'invalid_type'],
    ['a message not an object', { messages: ['Hi'] }, 'messages[0]', 'invalid_type'],
    [
      'a message without role',
      { messages: [{ content: 'x' }] },
      'messages[0].role',
      'missing_required_parameter',
    ],
    ['model not a string', { messages: MESSAGES, model: 42 }, 'model', 'invalid_type'],
    ['stream not a boolean', { messages: MESSAGES, stream: 'yes' }, 'stream', 'invalid_type'],
    [
      'max_tokens below 1',
      { messages: MESSAGES, max_tokens: 0 },
      'max_tokens',
      'integer_below_min_value',
    ],
    ['n not an integer', { messages: MESSAGES, n: '2' }, 'n', 'invalid_type'],
  ])(
    '400 naming the field when %s, without calling the upstream',
    async (_case, body, param, code) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(error).toMatchObject({ type: 'invalid_request_error', param, code });
      expect(error.message).toContain(`'${param}'`);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(sim.requests).toHaveLength(0);
    },
  );

  it.each([
    ['temperature', '"temperature": 1e400'],
    ['top_p', '"top_p": -1e999'],
    ['logit_bias.50256', '"logit_bias": {"50256": 1e400}'],
    ['max_tokens', '"max_tokens": 1e400'],
    // Anywhere in the request, not only one level down.
    ['metadata.a.b', '"metadata": {"a": {"b": -1e999}}'],
    ['stop[1]', '"stop": ["x", 1e400]'],
    [
      'messages[1].content',
      '"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": 1e400}]',
    ],
    [
      'tools[0].function.parameters.properties.n.maximum',
      '"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"n": {"type": "number", "maximum": 1e400}}}}}]',
    ],
  ])(
    '400 naming %s when it is a number JSON cannot carry (Infinity), not sent upstream as null',
    async (param, field) => {
      const res = await post(`{"messages": [{"role": "user", "content": "Hi"}], ${field}}`);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(error).toMatchObject({ type: 'invalid_request_error', param });
      expect(error.message).toContain(`'${param}' must be a finite number`);
      expect(sim.requests).toHaveLength(0);
    },
  );

  it('400 in OpenAI shape for malformed JSON', async () => {
    const res = await post('{"messages": [');
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
      param: null,
    });
    expect(error.message).toMatch(/not valid JSON/);
  });

  it('accepts bodies far above express’ 100 kB default', async () => {
    sim.script([{ type: 'ok', content: 'long read' }]);
    const res = await post({ messages: [{ role: 'user', content: 'x'.repeat(2_000_000) }] });
    expect(res.status).toBe(200);
  });

  it('404 in OpenAI shape for an unknown route', async () => {
    const res = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({
      message: 'Invalid URL (POST /v1/embeddings)',
      code: 'unknown_url',
    });
  });

  it('lists LLM_MODEL and LLM_MODELS in OpenAI’s shape', async () => {
    const res = await fetch(`${url}/v1/models`);
    const body = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['gpt-4o-mini', 'gpt-4o', 'o3-mini']);
    expect(body.data[0]).toEqual({
      id: 'gpt-4o-mini',
      object: 'model',
      created: expect.any(Number) as number,
      owned_by: 'openai',
    });
    expect((await fetch(`${url}/v1/models/o3-mini`)).status).toBe(200);
    expect((await fetch(`${url}/v1/models/nope`)).status).toBe(404);
  });

  it('answers every response with one x-request-id, the caller’s when well-formed', async () => {
    const given = { 'x-request-id': 'req-given-7' };
    for (const path of ['/v1/models', '/v1/models/o3-mini', '/v1/models/nope', '/v1/nothing']) {
      const res = await fetch(`${url}${path}`, { headers: given });
      expect([path, res.headers.get('x-request-id')]).toEqual([path, 'req-given-7']);
      const fresh = await fetch(`${url}${path}`);
      expect([path, fresh.headers.get('x-request-id')]).toEqual([
        path,
        expect.stringMatching(/^[\w-]{36}$/),
      ]);
    }
  });

  it('answers a model named like an Object.prototype member as any other model', async () => {
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      sim.script([{ type: 'ok', content: 'fine' }]);
      const res = await post({ model, messages: MESSAGES });
      expect([model, res.status]).toEqual([model, 200]);
    }
  });
});

interface Chunk {
  object: string;
  choices: Array<{ delta: { content?: string } }>;
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
