import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { LengthFinishReasonError } from 'openai/core/error';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

// The gateway as a real client sees it: the official OpenAI SDK, with its own default retries
// left on, pointed at the gateway's base URL.
describe('the official OpenAI SDK against the gateway', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let openai: OpenAI;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-gateway-upstream-key',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
    openai = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-client-key',
      timeout: 5000,
    });
  });
  beforeEach(() => sim.reset());
  afterAll(async () => {
    await gateway.close();
    await sim.close();
  });

  it('creates a completion and reads the gateway headers', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'Hello from upstream' },
    ]);
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from upstream');
    expect(response.headers.get('x-llm-attempts')).toBe('2');
  });

  it('streams with the SDK and stream_options.include_usage', async () => {
    sim.script([{ type: 'stream', chunks: ['Str', 'eam', 'ed'] }]);
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Streamed');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) as number });
  });

  const WEATHER = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      strict: true,
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  };

  it('relays a streamed tool call with n = 2 that the SDK assembles, and the upstream got the tools', async () => {
    const stream = openai.chat.completions.stream({
      model: 'gpt-4o-mini',
      n: 2,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const done = await stream.finalChatCompletion();

    expect(done.choices.map((c) => c.finish_reason)).toEqual(['tool_calls', 'tool_calls']);
    for (const choice of done.choices) {
      expect(choice.message.tool_calls).toEqual([
        expect.objectContaining({
          type: 'function',
          function: expect.objectContaining({
            name: 'get_weather',
            arguments: '{"city":"example"}',
            parsed_arguments: { city: 'example' },
          }) as unknown,
        }),
      ]);
    }
    expect(sim.requests.at(-1)?.body).toMatchObject({
      n: 2,
      tools: [WEATHER],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
  });

  it('relays structured output that the SDK parses (response_format json_schema)', async () => {
    const done = await openai.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', strict: true, schema: WEATHER.function.parameters },
      },
    });
    expect(done.choices[0]?.message.parsed).toEqual({ city: 'example' });
  });

  it('relays n choices of a plain completion', async () => {
    const done = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      n: 3,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(done.choices.map((c) => [c.index, c.message.content])).toEqual(
      [0, 1, 2].map((i) => [i, 'Simulated reply to: Hi']),
    );
  });

  it('relays a completion cut at max_completion_tokens with its logprobs, and the SDK parse() refuses it', async () => {
    const done = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi there' }],
      max_completion_tokens: 3,
      logprobs: true,
      top_logprobs: 1,
    });
    const choice = done.choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.content).toBe('Simulated re');
    expect(choice.logprobs?.content?.map((t) => t.token).join('')).toBe('Simulated re');
    expect(choice.logprobs?.content?.[0]?.top_logprobs).toHaveLength(1);
    const cut = await openai.chat.completions
      .parse({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        max_tokens: 2,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'weather', strict: true, schema: WEATHER.function.parameters },
        },
      })
      .catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(LengthFinishReasonError);
  });

  it("relays the provider's 400 for a sampling parameter out of range, naming it", async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], temperature: 3 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('temperature');
    expect((error as BadRequestError).message).toContain('Expected a value <= 2, but got 3');
    expect(sim.requests).toHaveLength(1);
  });

  it('does not multiply attempts: the SDK obeys x-should-retry and stops after the gateway gave up', async () => {
    sim.script([{ type: 'error', status: 503, repeat: 20 }]);
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(503);
    expect((error as APIError).code).toBe('overloaded');
    expect(sim.requests).toHaveLength(4); // the gateway's 1 + 3, and no SDK retry on top
  });

  it('fails at once on an open circuit: the SDK does not sleep out the break to retry', async () => {
    const breaking = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-gateway-upstream-key',
      LLM_MAX_RETRIES: '0',
      LLM_BREAKER_FAILURES: '1',
      LLM_BREAKER_MIN_HALF_OPEN_MS: '1500',
      LLM_BREAKER_HALF_OPEN_MS: '1500',
      LLM_BREAKER_MAX_WAIT_MS: '0',
    });
    try {
      const sent: number[] = [];
      const client = new OpenAI({
        baseURL: `${breaking.url}/v1`,
        apiKey: 'sk-client-key',
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          sent.push(response.status);
          return response;
        },
      });
      sim.script([{ type: 'error', status: 500, repeat: 5 }]);
      const call = () =>
        client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
          .catch((e: unknown) => e);
      expect(((await call()) as APIError).status).toBe(502); // opens the circuit
      const rejected = (await call()) as APIError;
      expect(rejected.status).toBe(503);
      expect(rejected.code).toBe('circuit_open');
      expect(rejected.headers?.get('x-should-retry')).toBe('false');
      expect(Number(rejected.headers?.get('retry-after-ms'))).toBeGreaterThan(0);
      // One request each: the SDK neither retried the 502 nor slept 1.5 s to retry the 503.
      expect(sent).toEqual([502, 503]);
      expect(sim.requests).toHaveLength(1);
    } finally {
      await breaking.close();
    }
  });

  it('raises the SDK’s own AuthenticationError when the upstream rejects the gateway key', async () => {
    sim.script([{ type: 'error', status: 401 }]);
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as APIError).message).toMatch(/gateway's own credentials/);
    expect(JSON.stringify(error)).not.toContain('sk-gateway-upstream-key');
  });

  it('raises BadRequestError naming the field for an invalid request', async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('messages');
    expect(sim.requests).toHaveLength(0);
  });

  it("relays the provider's 400 for a request it judges, with the field it names, once", async () => {
    const error = await openai.chat.completions
      .create({
        model: 'gpt-4o-mini',
        // A role the gateway leaves to the provider to judge (it checks only that it is a string).
        messages: [{ role: 'narrator' as 'user', content: 'Hi' }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('messages[0].role');
    expect((error as BadRequestError).message).toContain("Invalid value: 'narrator'");
    // Neither the gateway nor the SDK tried again.
    expect(sim.requests).toHaveLength(1);
  });

  it.each([
    [429, 'insufficient_quota', 'quota_exceeded'],
    [400, 'content_filter', 'content_filtered'],
    [404, 'model_not_found', 'not_found'],
  ])(
    'relays the provider’s own code for its %d %s, as code written against the provider checks it',
    async (status, code, kind) => {
      sim.script([{ type: 'error', status, code, message: 'Refused.' }]);
      const error = await openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(status);
      expect((error as APIError).code).toBe(code);
      expect((error as APIError).headers?.get('x-llm-error-kind')).toBe(kind);
    },
  );

  it('a stream cut after content ends in an SDK error, not a silent clean end', async () => {
    sim.script([{ type: 'stream', chunks: ['one ', 'two ', 'three'], cutAfter: 2 }]);
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('one two ');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('the official OpenAI SDK against a gateway with inbound keys', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-gateway-upstream-key',
      GATEWAY_API_KEYS: 'gk-known-0123456789abcdef',
    });
  });
  afterAll(async () => {
    await gateway.close();
    await sim.close();
  });

  it('gets AuthenticationError with a request id for a wrong key, large bodies included (no broken pipe, no re-upload)', async () => {
    const openai = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-wrong',
      maxRetries: 0,
      timeout: 10_000,
    });
    // 8 MB: a large base64 image's size. Closing before reading it broke the SDK's upload.
    for (const size of [1_000, 8_000_000, 8_000_000]) {
      const error = await openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(size) }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).requestID).toBeTruthy();
    }
    expect(sim.requests).toHaveLength(0);
  });

  it('gets NotFoundError with a request id for a route the gateway does not serve, even with a multipart body', async () => {
    const openai = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'gk-known-0123456789abcdef',
      maxRetries: 0,
    });
    const error = await openai.audio.transcriptions
      .create({ model: 'whisper-1', file: new File([Buffer.alloc(64 * 1024)], 'a.wav') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).requestID).toBeTruthy();
    const models = await openai.models.list().withResponse();
    expect(models.response.headers.get('x-request-id')).toBeTruthy();
  });
});
