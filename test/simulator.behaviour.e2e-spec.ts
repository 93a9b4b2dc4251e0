import { formatOpenAiDuration } from '../src/simulator/openai-duration.format';
import { readSseEvents, sseEvents, type SseEvent } from '../src/simulator/sse-events.reader';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';

const KEY = 'sk-test-0123456789';
const MESSAGES = [{ role: 'user', content: 'Hello there' }];

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface Chunk {
  id: string;
  object: string;
  choices: {
    index?: number;
    delta: { role?: string; content?: string };
    finish_reason: string | null;
  }[];
  usage?: Completion['usage'] | null;
}

interface ToolCall {
  index?: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments: string };
}
interface ToolCompletion {
  choices: {
    index: number;
    message: { content: string | null; tool_calls?: ToolCall[] };
    finish_reason: string;
  }[];
}
interface ToolChunk {
  choices: { delta: { tool_calls?: ToolCall[] }; finish_reason: string | null }[];
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function chat(
  sim: UpstreamSimulator,
  body: object = { messages: MESSAGES },
  init: RequestInit & { key?: string | null } = {},
): Promise<Response> {
  const { key = KEY, ...rest } = init;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return fetch(`${sim.baseUrl}/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...rest,
  });
}

function control(sim: UpstreamSimulator, path: string, body?: unknown): Promise<Response> {
  const url = sim.baseUrl.replace(/\/v1$/, `/_sim/${path}`);
  if (body === undefined) return fetch(url);
  return fetch(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const chunks = (events: SseEvent[]): Chunk[] =>
  events.filter((e) => e.data && e.data !== '[DONE]').map((e) => JSON.parse(e.data!) as Chunk);
const contentOf = (events: SseEvent[]): string[] =>
  chunks(events)
    .map((c) => c.choices[0]?.delta.content)
    .filter((c): c is string => c !== undefined && c !== '');

describe('UpstreamSimulator', () => {
  let sim: UpstreamSimulator;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ apiKey: KEY });
  });
  beforeEach(() => sim.reset());
  afterAll(() => sim.close());

  describe('OpenAI behaviour', () => {
    it('answers a chat completion in OpenAI shape with its headers', async () => {
      const res = await chat(sim, { model: 'gpt-4o', messages: MESSAGES });
      const body = (await res.json()) as Completion;

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
      expect(Number(res.headers.get('openai-processing-ms'))).toBeGreaterThanOrEqual(0);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
      expect(body.id).toMatch(/^chatcmpl-/);
      expect(body.object).toBe('chat.completion');
      expect(body.model).toBe('gpt-4o');
      expect(body.choices[0]).toMatchObject({
        index: 0,
        message: { role: 'assistant', content: 'Simulated reply to: Hello there' },
        finish_reason: 'stop',
      });
      const { prompt_tokens, completion_tokens, total_tokens } = body.usage;
      expect(prompt_tokens).toBe(3);
      expect(total_tokens).toBe(prompt_tokens + completion_tokens);
    });

    it('answers with the first model when the request names none', async () => {
      const body = (await (await chat(sim)).json()) as Completion;
      expect(body.model).toBe('gpt-4o-mini');
    });

    it('streams SSE chunks ending with the usage chunk and [DONE]', async () => {
      const res = await chat(sim, {
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
      const events = await readSseEvents(res);
      const all = chunks(events);

      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(events.at(-1)?.data).toBe('[DONE]');
      expect(all[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
      expect(new Set(all.map((c) => c.id)).size).toBe(1);
      expect(all.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(contentOf(events).length).toBeGreaterThan(1);
      expect(contentOf(events).join('')).toBe('Simulated reply to: Hello there');
      expect(all.at(-2)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
      expect(all.at(-1)?.choices).toEqual([]);
      expect(all.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('lists the models', async () => {
      const res = await fetch(`${sim.baseUrl}/models`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      const body = (await res.json()) as {
        object: string;
        data: { id: string; owned_by: string }[];
      };
      expect(body.object).toBe('list');
      expect(body.data.map((m) => m.id)).toEqual(['gpt-4o-mini', 'gpt-4o']);
      expect(body.data[0]?.owned_by).toBe('simulator');
    });

    it('answers 401 to a wrong key without echoing it', async () => {
      const res = await chat(sim, { messages: MESSAGES }, { key: 'sk-wrong-secret-42' });
      const text = await res.text();

      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(JSON.parse(text)).toEqual({
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      expect(text).not.toMatch(/wrong|secret|42/);
    });

    it('answers 400 to a request without messages', async () => {
      const res = await chat(sim, { model: 'gpt-4o', messages: [] });
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(400);
      expect(body.error.type).toBe('invalid_request_error');
    });

    it.each([
      [
        'an unknown role',
        [
          { role: 'user', content: 'Hi' },
          { role: 'bogus', content: 'x' },
        ],
        'messages[1].role',
        'invalid_value',
        "Invalid value: 'bogus'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
      ],
      [
        'no role',
        [{ content: 'Hi' }],
        'messages[0].role',
        'missing_required_parameter',
        "Missing required parameter: 'messages[0].role'.",
      ],
      [
        'a string for a message',
        ['Hi'],
        'messages[0]',
        'invalid_type',
        "Invalid type for 'messages[0]': expected an object, but got a string instead.",
      ],
      [
        'a 5,000-character role, not echoed',
        [{ role: 'x'.repeat(5000), content: 'Hi' }],
        'messages[0].role',
        'invalid_value',
        "Invalid value: the given value. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
      ],
    ])(
      'answers 400 as OpenAI does to a message that is not an object with a known role: %s',
      async (_case, messages, param, code, message) => {
        const res = await chat(sim, { model: 'gpt-4o', messages });
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          error: { message, type: 'invalid_request_error', param, code },
        });
      },
    );

    it('accepts every role OpenAI accepts', async () => {
      const messages = ['developer', 'system', 'user', 'assistant', 'tool', 'function'].map(
        (role) => ({ role, content: role }),
      );
      const res = await chat(sim, { messages });
      expect(res.status).toBe(200);
    });

    it('answers n choices, with n times the completion tokens', async () => {
      const one = (await (await chat(sim)).json()) as Completion;
      const res = await chat(sim, { messages: MESSAGES, n: 3 });
      const body = (await res.json()) as Completion;
      expect(res.status).toBe(200);
      expect(body.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual(
        [0, 1, 2].map((i) => [i, 'Simulated reply to: Hello there', 'stop']),
      );
      expect(body.usage.completion_tokens).toBe(3 * one.usage.completion_tokens);
    });

    it('streams n choices, one chunk per choice at each step', async () => {
      const events = await readSseEvents(
        await chat(sim, { messages: MESSAGES, n: 2, stream: true }),
      );
      const byChoice = [0, 1].map((i) =>
        chunks(events)
          .map((c) => (c.choices[0]?.index === i ? c.choices[0] : undefined))
          .filter((c) => c !== undefined),
      );
      for (const choice of byChoice) {
        expect(choice.map((c) => c.delta.content ?? '').join('')).toBe(
          'Simulated reply to: Hello there',
        );
        expect(choice.at(-1)?.finish_reason).toBe('stop');
      }
      expect(chunks(events).every((c) => c.choices.length === 1)).toBe(true);
    });

    const WEATHER = {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: {
            city: { type: 'string' },
            days: { type: 'integer' },
            hot: { type: 'boolean' },
          },
          required: ['city', 'days'],
        },
      },
    };
    const NOTE = { type: 'function', function: { name: 'take_note' } };

    it('calls the tool that tool_choice asks for, with placeholder required arguments', async () => {
      const required = (await (
        await chat(sim, {
          messages: MESSAGES,
          n: 2,
          tools: [WEATHER, NOTE],
          tool_choice: 'required',
        })
      ).json()) as ToolCompletion;
      const named = (await (
        await chat(sim, {
          messages: MESSAGES,
          tools: [WEATHER, NOTE],
          tool_choice: { type: 'function', function: { name: 'take_note' } },
        })
      ).json()) as ToolCompletion;

      expect(required.choices).toHaveLength(2);
      for (const choice of required.choices) {
        expect(choice.finish_reason).toBe('tool_calls');
        expect(choice.message.content).toBeNull();
        expect(choice.message.tool_calls).toEqual([
          {
            id: expect.stringMatching(/^call_/) as string,
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"example","days":1}' },
          },
        ]);
      }
      const ids = required.choices.map((c) => c.message.tool_calls?.[0]?.id);
      expect(new Set(ids).size).toBe(2);
      expect(named.choices[0]?.message.tool_calls?.[0]?.function).toEqual({
        name: 'take_note',
        arguments: '{}',
      });
    });

    it('answers with text when tool_choice is auto, none or absent', async () => {
      for (const tool_choice of ['auto', 'none', undefined]) {
        const body = (await (
          await chat(sim, { messages: MESSAGES, tools: [WEATHER], tool_choice })
        ).json()) as ToolCompletion;
        expect(body.choices[0]?.finish_reason).toBe('stop');
        expect(body.choices[0]?.message.tool_calls).toBeUndefined();
      }
    });

    it('streams a tool call as OpenAI does: id and name first, then argument pieces', async () => {
      const res = await chat(sim, {
        messages: MESSAGES,
        stream: true,
        tools: [WEATHER],
        tool_choice: 'required',
      });
      const all = chunks(await readSseEvents(res)) as unknown as ToolChunk[];
      const calls = all.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);

      expect(all[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: null });
      expect(calls[0]).toMatchObject({
        index: 0,
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      });
      expect(calls[0]?.id).toMatch(/^call_/);
      expect(calls.length).toBeGreaterThan(2);
      expect(calls.map((c) => c.function.arguments).join('')).toBe('{"city":"example","days":1}');
      expect(calls.slice(1).every((c) => c.id === undefined && c.function.name === undefined)).toBe(
        true,
      );
      expect(all.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    });

    it.each([
      [
        'n: 0',
        { n: 0 },
        'n',
        'integer_below_min_value',
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
      ],
      [
        'n: 129',
        { n: 129 },
        'n',
        'integer_above_max_value',
        "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead.",
      ],
      [
        'n: "2"',
        { n: '2' },
        'n',
        'invalid_type',
        "Invalid type for 'n': expected an integer, but got a string instead.",
      ],
      [
        'n: 1.5',
        { n: 1.5 },
        'n',
        'invalid_type',
        "Invalid type for 'n': expected an integer, but got a decimal instead.",
      ],
      [
        'tools: {}',
        { tools: {} },
        'tools',
        'invalid_type',
        "Invalid type for 'tools': expected an array, but got an object instead.",
      ],
      [
        'tools: []',
        { tools: [] },
        'tools',
        'empty_array',
        "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      ],
      [
        '129 tools',
        { tools: Array(129).fill(NOTE) },
        'tools',
        'array_above_max_length',
        "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length 129 instead.",
      ],
      [
        'a tool with no name',
        { tools: [{ type: 'function', function: {} }] },
        'tools[0].function.name',
        'missing_required_parameter',
        "Missing required parameter: 'tools[0].function.name'.",
      ],
      [
        'tool_choice with no tools',
        { tool_choice: 'required' },
        'tool_choice',
        null,
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      ],
      [
        'tool_choice naming no tool',
        { tools: [NOTE], tool_choice: { type: 'function', function: { name: 'x'.repeat(5000) } } },
        'tool_choice.function.name',
        'invalid_value',
        "Invalid value for 'tool_choice': the function it names is not one of 'tools'.",
      ],
    ])('answers 400 as OpenAI does to %s', async (_case, fields, param, code, message) => {
      const res = await chat(sim, { messages: MESSAGES, ...fields });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { message, type: 'invalid_request_error', param, code },
      });
    });

    const jsonSchema = (schema: object) => ({
      type: 'json_schema',
      json_schema: { name: 'answer', strict: true, schema },
    });

    it('answers response_format json_schema with an example the schema accepts', async () => {
      const schema = {
        type: 'object',
        properties: {
          city: { type: 'string' },
          temps: { type: 'array', items: { type: 'number', minimum: 5 }, minItems: 2 },
          unit: { enum: ['C', 'F'] },
          loc: { $ref: '#/$defs/Loc' },
          note: { type: ['string', 'null'] },
          kind: { anyOf: [{ const: 'city' }, { type: 'integer' }] },
          ['__proto__']: { type: 'boolean' },
        },
        required: ['city', 'temps', 'unit', 'loc', 'note', 'kind', '__proto__'],
        additionalProperties: false,
        $defs: {
          Loc: { type: 'object', properties: { lat: { type: 'number' } }, required: ['lat'] },
        },
      };
      const body = (await (
        await chat(sim, { messages: MESSAGES, response_format: jsonSchema(schema) })
      ).json()) as Completion;

      expect(JSON.parse(body.choices[0]!.message.content)).toEqual(
        JSON.parse(
          '{"city":"example","temps":[5,5],"unit":"C","loc":{"lat":1},"note":"example","kind":"city","__proto__":true}',
        ),
      );
    });

    it('bounds the example of a schema nested past 8 levels', async () => {
      let schema: object = { type: 'string' };
      for (let i = 0; i < 200; i++) {
        schema = { type: 'object', properties: { a: schema }, required: ['a'] };
      }
      const res = await chat(sim, { messages: MESSAGES, response_format: jsonSchema(schema) });
      const content = ((await res.json()) as Completion).choices[0]!.message.content;
      expect(content).toBe('{"a":'.repeat(9) + '{}' + '}'.repeat(9));
    });

    it('answers response_format json_object with a JSON object, streamed in pieces', async () => {
      const messages = [{ role: 'user', content: 'Answer in JSON' }];
      const res = await chat(sim, {
        messages,
        stream: true,
        response_format: { type: 'json_object' },
      });
      const pieces = contentOf(await readSseEvents(res));
      expect(pieces.length).toBeGreaterThan(2);
      expect(JSON.parse(pieces.join(''))).toEqual({ reply: 'Simulated reply to: Answer in JSON' });
    });

    it.each([
      [
        'json_object without the word json',
        { type: 'json_object' },
        'messages',
        null,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      ],
      [
        'an unknown type',
        { type: 'xml' },
        'response_format.type',
        'invalid_value',
        "Invalid value: 'xml'. Supported values are: 'json_object', 'json_schema', and 'text'.",
      ],
      [
        'json_schema without its schema object',
        { type: 'json_schema' },
        'response_format.json_schema',
        'missing_required_parameter',
        "Missing required parameter: 'response_format.json_schema'.",
      ],
    ])(
      'answers 400 as OpenAI does to response_format with %s',
      async (_case, format, param, code, message) => {
        const res = await chat(sim, { messages: MESSAGES, response_format: format });
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          error: { message, type: 'invalid_request_error', param, code },
        });
      },
    );

    it('cuts each choice at max_tokens with finish_reason length, plainly and streamed', async () => {
      // "Simulated reply to: Hello there" is 31 characters, 8 tokens at 4 characters a token.
      for (const limit of [{ max_tokens: 3 }, { max_completion_tokens: 3 }]) {
        const res = await chat(sim, { messages: MESSAGES, n: 2, ...limit });
        const body = (await res.json()) as Completion;
        expect(body.choices.map((c) => [c.message.content, c.finish_reason])).toEqual([
          ['Simulated re', 'length'],
          ['Simulated re', 'length'],
        ]);
        expect(body.usage.completion_tokens).toBe(6);
      }
      const events = await readSseEvents(
        await chat(sim, { messages: MESSAGES, stream: true, max_tokens: 3 }),
      );
      expect(contentOf(events).join('')).toBe('Simulated re');
      expect(chunks(events).at(-1)?.choices[0]?.finish_reason).toBe('length');
      // A limit above the reply changes nothing.
      const whole = (await (
        await chat(sim, { messages: MESSAGES, max_tokens: 8 })
      ).json()) as Completion;
      expect(whole.choices[0]).toMatchObject({
        message: { content: 'Simulated reply to: Hello there' },
        finish_reason: 'stop',
      });
    });

    it("cuts a function call's arguments at max_tokens with finish_reason length", async () => {
      const res = await chat(sim, {
        messages: MESSAGES,
        tools: [WEATHER],
        tool_choice: 'required',
        max_tokens: 2,
      });
      const choice = ((await res.json()) as ToolCompletion).choices[0]!;
      expect(choice.finish_reason).toBe('length');
      expect(choice.message.tool_calls?.[0]?.function.arguments).toHaveLength(8);
    });

    it('ends the text before the first stop sequence, which is left out', async () => {
      const answer = async (stop: unknown) =>
        ((await (await chat(sim, { messages: MESSAGES, stop })).json()) as Completion).choices[0];
      expect(await answer('reply')).toMatchObject({
        message: { content: 'Simulated ' },
        finish_reason: 'stop',
      });
      expect((await answer(['there', 'to:']))?.message.content).toBe('Simulated reply ');
      expect((await answer(['absent', '']))?.message.content).toBe(
        'Simulated reply to: Hello there',
      );
      expect((await answer(null))?.message.content).toBe('Simulated reply to: Hello there');
    });

    it('gives each content token its logprobs when asked, plainly and streamed', async () => {
      interface Logprob {
        token: string;
        logprob: number;
        bytes: number[];
        top_logprobs: { token: string; logprob: number }[];
      }
      type WithLogprobs = { choices: { logprobs: { content: Logprob[] } | null }[] };
      const plain = (await (
        await chat(sim, { messages: MESSAGES, logprobs: true, top_logprobs: 2 })
      ).json()) as WithLogprobs;
      const tokens = plain.choices[0]!.logprobs!.content;
      expect(tokens.map((t) => t.token).join('')).toBe('Simulated reply to: Hello there');
      for (const t of tokens) {
        expect(t.logprob).toBeLessThan(0);
        expect(Buffer.from(t.bytes).toString('utf8')).toBe(t.token);
        expect(t.top_logprobs).toHaveLength(2);
        expect(t.top_logprobs[0]).toMatchObject({ token: t.token, logprob: t.logprob });
      }
      const off = (await (await chat(sim)).json()) as WithLogprobs;
      expect(off.choices[0]!.logprobs).toBeNull();
      const events = await readSseEvents(
        await chat(sim, { messages: MESSAGES, stream: true, logprobs: true }),
      );
      const streamed = chunks(events)
        .map((c) => (c.choices[0] as unknown as WithLogprobs['choices'][0]).logprobs)
        .filter((l) => l !== null);
      expect(streamed.map((l) => l.content.map((t) => t.token).join('')).join('')).toBe(
        'Simulated reply to: Hello there',
      );
      expect(
        streamed.every((l) => l.content.length === 1 && l.content[0]!.top_logprobs.length === 0),
      ).toBe(true);
    });

    it.each([
      [
        'temperature',
        { temperature: 3 },
        'temperature',
        'decimal_above_max_value',
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
      ],
      [
        'top_p',
        { top_p: -0.5 },
        'top_p',
        'decimal_below_min_value',
        "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.5 instead.",
      ],
      [
        'presence_penalty',
        { presence_penalty: 'high' },
        'presence_penalty',
        'invalid_type',
        "Invalid type for 'presence_penalty': expected a decimal, but got a string instead.",
      ],
      [
        'frequency_penalty',
        { frequency_penalty: 2.5 },
        'frequency_penalty',
        'decimal_above_max_value',
        "Invalid 'frequency_penalty': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
      ],
      [
        'max_tokens',
        { max_tokens: 0 },
        'max_tokens',
        'integer_below_min_value',
        "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
      ],
      [
        'max_completion_tokens',
        { max_completion_tokens: 1.5 },
        'max_completion_tokens',
        'invalid_type',
        "Invalid type for 'max_completion_tokens': expected an integer, but got a decimal instead.",
      ],
      [
        'stop',
        { stop: ['a', 'b', 'c', 'd', 'e'] },
        'stop',
        'array_above_max_length',
        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
      ],
      [
        'a stop sequence',
        { stop: ['a', 7] },
        'stop[1]',
        'invalid_type',
        "Invalid type for 'stop[1]': expected a string, but got an integer instead.",
      ],
      [
        'logprobs',
        { logprobs: 'yes' },
        'logprobs',
        'invalid_type',
        "Invalid type for 'logprobs': expected a boolean, but got a string instead.",
      ],
      [
        'top_logprobs',
        { logprobs: true, top_logprobs: 21 },
        'top_logprobs',
        'integer_above_max_value',
        "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.",
      ],
      [
        'top_logprobs without logprobs',
        { top_logprobs: 2 },
        'top_logprobs',
        'invalid_value',
        "Invalid value for 'top_logprobs': 'logprobs' must be true to use 'top_logprobs'.",
      ],
    ])('answers 400 as OpenAI does to a bad %s', async (_case, params, param, code, message) => {
      const res = await chat(sim, { messages: MESSAGES, ...params });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { message, type: 'invalid_request_error', param, code },
      });
      expect(sim.requests).toHaveLength(1);
    });

    it('takes null sampling parameters as left out', async () => {
      const res = await chat(sim, {
        messages: MESSAGES,
        temperature: null,
        top_p: null,
        max_tokens: null,
        stop: null,
        logprobs: null,
        top_logprobs: null,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Completion).choices[0]?.finish_reason).toBe('stop');
    });

    it('answers 404 in OpenAI shape to an unknown path', async () => {
      const res = await fetch(`${sim.baseUrl}/embeddings-nope`);
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(404);
      expect(body.error.message).toBe('Invalid URL (GET /v1/embeddings-nope)');
    });

    it('records requests with the credentials redacted', async () => {
      await chat(sim);
      await chat(sim, { messages: MESSAGES }, { key: null });

      const [first, second] = sim.requests;
      expect(first).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
      expect(first?.headers.authorization).toBe('Bearer ***');
      expect(first?.hadAuthorization).toBe(true);
      expect(first?.body).toEqual({ messages: MESSAGES });
      expect(second?.hadAuthorization).toBe(false);
      expect(JSON.stringify(sim.requests)).not.toContain(KEY);
    });

    it('formats waits as OpenAI durations', () => {
      expect([20, 1000, 1500, 90_500, 360_000].map(formatOpenAiDuration)).toEqual([
        '20ms',
        '1s',
        '1.5s',
        '1m30.5s',
        '6m0s',
      ]);
    });
  });

  describe('scripted faults', () => {
    it('answers a scripted error with its headers, then normally again', async () => {
      sim.script([
        {
          type: 'error',
          status: 429,
          repeat: 2,
          headers: { 'retry-after-ms': '250', 'x-should-retry': 'true' },
        },
      ]);

      const first = await chat(sim);
      const second = await chat(sim);
      const third = await chat(sim);

      expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
      expect(first.headers.get('retry-after-ms')).toBe('250');
      expect(first.headers.get('x-should-retry')).toBe('true');
      expect(((await first.json()) as ErrorBody).error.code).toBe('rate_limit_exceeded');
      expect(sim.requests.map((r) => r.step)).toEqual(['error', 'error', undefined]);
    });

    it('uses OpenAI default messages and a raw body override', async () => {
      sim.script([
        { type: 'error', status: 503 },
        { type: 'error', status: 502, body: '<html>502 Bad Gateway</html>' },
      ]);

      const overloaded = (await (await chat(sim)).json()) as ErrorBody;
      const proxy = await chat(sim);

      expect(overloaded.error).toEqual({
        message: 'The server is overloaded or not ready yet.',
        type: 'server_error',
        param: null,
        code: null,
      });
      expect(proxy.status).toBe(502);
      expect(proxy.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await proxy.text()).toBe('<html>502 Bad Gateway</html>');
    });

    it('resets the connection without an answer', async () => {
      sim.script([{ type: 'reset' }]);
      await expect(chat(sim)).rejects.toThrow();
      expect((await chat(sim)).status).toBe(200);
    });

    it('hangs until the client gives up', async () => {
      sim.script([{ type: 'hang' }]);
      const started = Date.now();
      await expect(chat(sim, undefined, { signal: AbortSignal.timeout(100) })).rejects.toThrow(
        expect.objectContaining({ name: 'TimeoutError' }) as Error,
      );
      expect(Date.now() - started).toBeLessThan(1000);
      expect(sim.requests[0]?.step).toBe('hang');
    });

    it('sends a truncated JSON body', async () => {
      sim.script([{ type: 'malformed' }]);
      const res = await chat(sim);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });

    it('sends a broken SSE event to a stream request', async () => {
      sim.script([{ type: 'malformed' }]);
      const events = await readSseEvents(await chat(sim, { messages: MESSAGES, stream: true }));
      expect(events).toHaveLength(2);
      expect(() => JSON.parse(events[1]?.data ?? '') as unknown).toThrow(SyntaxError);
    });

    it('answers every request with the outage status until the outage ends', async () => {
      sim.script([{ type: 'ok', content: 'scripted' }]);
      sim.startOutage({ durationMs: 80 });

      const during = await chat(sim);
      await delay(100);
      const after = (await (await chat(sim)).json()) as Completion;

      expect(during.status).toBe(503);
      expect(((await during.json()) as ErrorBody).error.type).toBe('server_error');
      expect(after.choices[0]?.message.content).toBe('scripted');
    });
  });

  describe('stream faults', () => {
    const streamChat = (signal?: AbortSignal): Promise<Response> =>
      chat(sim, { messages: MESSAGES, stream: true }, signal ? { signal } : {});

    it('drips chunks with delayMs', async () => {
      sim.script([{ type: 'stream', chunks: ['a', 'b', 'c', 'd'], delayMs: 25 }]);
      const events = await readSseEvents(await streamChat());
      const content = events.filter((e) => contentOf([e]).length > 0);
      expect(contentOf(events)).toEqual(['a', 'b', 'c', 'd']);
      expect(content.at(-1)!.at - content[0]!.at).toBeGreaterThanOrEqual(60);
    });

    it('sends empty deltas and waits for the first chunk', async () => {
      sim.script([{ type: 'stream', content: 'Hi there', emptyDeltas: 2, firstChunkDelayMs: 60 }]);
      const res = await streamChat();
      const headersAt = Date.now();
      const events = await readSseEvents(res);
      const deltas = chunks(events).map((c) => c.choices[0]?.delta.content);
      expect(events[0]!.at - headersAt).toBeGreaterThanOrEqual(40);
      expect(deltas.slice(0, 5)).toEqual(['', '', '', 'Hi ', 'there']);
    });

    it('stalls after stallAfter chunks while keeping the connection open', async () => {
      sim.script([{ type: 'stream', content: 'one two three four', stallAfter: 2 }]);
      const abort = new AbortController();
      const iterator = sseEvents((await streamChat(abort.signal)).body!)[Symbol.asyncIterator]();
      const seen: SseEvent[] = [];
      while (contentOf(seen).length < 2) seen.push((await iterator.next()).value as SseEvent);

      const next = iterator.next().then(
        () => 'event',
        () => 'aborted',
      );
      const winner = await Promise.race([next, delay(100).then(() => 'silence')]);
      abort.abort();

      expect(contentOf(seen)).toEqual(['one ', 'two ']);
      expect(winner).toBe('silence');
      expect(await next).toBe('aborted');
    });

    it('cuts the connection after cutAfter chunks', async () => {
      sim.script([{ type: 'stream', content: 'one two three four', cutAfter: 2 }]);
      const seen: SseEvent[] = [];
      const reading = (async () => {
        for await (const event of sseEvents((await streamChat()).body!)) seen.push(event);
      })();
      await expect(reading).rejects.toThrow();
      expect(contentOf(seen)).toEqual(['one ', 'two ']);
      expect(seen.some((e) => e.data === '[DONE]')).toBe(false);
    });

    it('sends only keep-alive comments with keepAliveOnly', async () => {
      sim.script([{ type: 'stream', keepAliveOnly: true, keepAliveEveryMs: 20 }]);
      const abort = new AbortController();
      const iterator = sseEvents((await streamChat(abort.signal)).body!)[Symbol.asyncIterator]();
      const seen: SseEvent[] = [];
      for (let i = 0; i < 3; i++) seen.push((await iterator.next()).value as SseEvent);
      abort.abort();
      await iterator.return?.(undefined).catch(() => undefined);

      expect(seen.map((e) => e.comment)).toEqual(['keep-alive', 'keep-alive', 'keep-alive']);
      expect(seen.every((e) => e.data === undefined)).toBe(true);
    });
  });

  describe('rate limits', () => {
    it('answers 429 past the rpm and admits again once the window moves', async () => {
      // A 1 s window: three calls in a row fit in it even on a loaded machine.
      sim.configure({ rpm: 2, windowMs: 1000 });

      const first = await chat(sim);
      await chat(sim);
      const limited = await chat(sim);
      const body = (await limited.json()) as ErrorBody;

      expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(limited.status).toBe(429);
      expect(body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      expect(body.error.message).toMatch(
        /Limit 2, Used 2, Requested 1\. Please try again in \d+ms/,
      );
      expect(limited.headers.get('retry-after')).toBe('1');
      const waitMs = Number(limited.headers.get('retry-after-ms'));
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(1000);
      expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(limited.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+ms$/);

      await delay(waitMs + 10);
      expect((await chat(sim)).status).toBe(200);
    });

    it('answers 429 past the tpm, counting real usage after each answer', async () => {
      sim.configure({ tpm: 100, windowMs: 150 });
      const request = { messages: MESSAGES, max_tokens: 90 };

      const first = await chat(sim, request);
      const limited = await chat(sim, request);
      const body = (await limited.json()) as ErrorBody;

      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
      expect(limited.status).toBe(429);
      expect(body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
      expect(limited.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
      expect(Number(limited.headers.get('retry-after-ms'))).toBeLessThanOrEqual(150);
    });

    it('counts max_tokens once per choice against the tpm, as OpenAI does', async () => {
      sim.configure({ tpm: 100 });
      const one = await chat(sim, { messages: MESSAGES, max_tokens: 40 });
      sim.reset();
      sim.configure({ tpm: 100 });
      const three = await chat(sim, { messages: MESSAGES, max_tokens: 40, n: 3 });
      expect(one.status).toBe(200);
      expect(three.status).toBe(429);
      expect(((await three.json()) as ErrorBody).error.message).toMatch(/^Request too large/);
    });

    it('refuses a request larger than the whole tpm without a retry hint', async () => {
      sim.configure({ tpm: 50 });
      const res = await chat(sim, { messages: MESSAGES, max_tokens: 100 });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/^Request too large/);
    });
  });

  describe('control API', () => {
    it('scripts steps over HTTP', async () => {
      const queued = await control(sim, 'script', { steps: [{ type: 'error', status: 500 }] });
      expect(await queued.json()).toEqual({ queued: 1 });
      expect((await chat(sim)).status).toBe(500);
    });

    it('configures latency and outages over HTTP without showing the key', async () => {
      const configured = await control(sim, 'config', { latencyMs: 40 });
      const config = (await configured.json()) as {
        config: { latencyMs: number; hasApiKey: boolean };
      };
      const started = Date.now();
      await chat(sim);
      const elapsed = Date.now() - started;
      await control(sim, 'outage', { status: 502, durationMs: 200 });

      expect(config.config).toMatchObject({ latencyMs: 40, hasApiKey: true });
      expect(JSON.stringify(config)).not.toContain(KEY);
      expect(elapsed).toBeGreaterThanOrEqual(35);
      expect((await chat(sim)).status).toBe(502);
    });

    it('lists and resets recorded requests over HTTP', async () => {
      await chat(sim);
      const listed = (await (await control(sim, 'requests')).json()) as {
        count: number;
        requests: { headers: Record<string, string> }[];
      };
      await control(sim, 'reset', {});

      expect(listed.count).toBe(1);
      expect(listed.requests[0]?.headers.authorization).toBe('Bearer ***');
      expect(await (await control(sim, 'requests')).json()).toEqual({ count: 0, requests: [] });
    });

    it.each([
      ['script', { steps: [{ type: 'error' }] }, 'steps[0].status'],
      ['script', { steps: [{ type: 'explode' }] }, 'steps[0].type'],
      ['config', { rpm: 'many' }, 'body.rpm'],
      ['config', { latency: 5 }, 'body.latency'],
      ['outage', { status: 503 }, 'body.durationMs'],
      ['script', '{not json', 'body'],
    ])('answers 400 naming the bad field (%s %j)', async (path, body, field) => {
      const res = await control(sim, path, body);
      const error = ((await res.json()) as ErrorBody).error;
      expect(res.status).toBe(400);
      expect(error.param).toBe(field);
      expect(error.message).toContain(field);
    });
  });
});

describe('UpstreamSimulator.close()', () => {
  it('ends hanging requests promptly', async () => {
    const sim = await UpstreamSimulator.start();
    sim.script([{ type: 'hang' }]);
    const pending = chat(sim).then(
      () => 'answered',
      () => 'failed',
    );
    while (sim.requests.length === 0) await delay(5);

    // A close() that waited for the hanging request would never resolve: the test would time out.
    await sim.close();

    expect(await pending).toBe('failed');
    expect(sim.requests[0]?.step).toBe('hang');
  });
});
