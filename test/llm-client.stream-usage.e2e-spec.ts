import type { ChatCompletionChunk } from '../src/llm/call/chat.types';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type CallRecorder, recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { type LlmTestApp, startLlmApp } from './support/llm-test-app';
import { startLoopbackUpstream } from './support/loopback-upstream';

const MESSAGES = [{ role: 'user' as const, content: 'Count to three' }];

/**
 * `streamUsage`: a stream asks the upstream for its token usage when the caller did not, so that
 * streamed calls are counted in tokens like plain ones; the caller, who did not ask, never sees
 * the extra usage chunk.
 */
describe('LlmClient: streams ask for their usage (streamUsage)', () => {
  let sim: UpstreamSimulator;
  const apps: LlmTestApp[] = [];

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await sim.close();
  });

  async function boot(
    streamUsage?: 'auto' | 'always' | 'never',
  ): Promise<LlmTestApp & { recorder: CallRecorder }> {
    const t = await startLlmApp(sim.baseUrl, streamUsage ? { streamUsage } : {});
    apps.push(t);
    return { ...t, recorder: recordCalls(t.app) };
  }

  async function read(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  const sentOptions = (i: number): unknown =>
    (sim.requests[i]?.body as { stream_options?: unknown }).stream_options;

  it("'always': asks for the usage, records it, and keeps its extra chunk from the caller", async () => {
    const t = await boot('always');
    const chunks = await read(t.llm.chatStream({ messages: MESSAGES }));
    expect(sentOptions(0)).toEqual({ include_usage: true });
    expect(chunks.length).toBeGreaterThan(1);
    // Every chunk the caller gets has its choices: the usage-only last one stayed here. And none
    // has the `"usage": null` OpenAI adds to every chunk of a stream that asked.
    expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
    expect(chunks.filter((c) => 'usage' in c)).toEqual([]);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toContain('Simulated');
    const [call] = await eventually(() => t.recorder.calls.length === 1 && t.recorder.calls);
    expect(call!.response?.inputTokens).toBeGreaterThan(0);
    expect(call!.response?.outputTokens).toBeGreaterThan(0);
    // A plain call is left as it was: no stream_options.
    await t.llm.chat({ messages: MESSAGES });
    expect(sentOptions(1)).toBeUndefined();
  });

  it("a caller's own include_usage gets the usage chunk as before; its other stream_options are kept", async () => {
    const t = await boot('always');
    const asked = await read(
      t.llm.chatStream({ messages: MESSAGES, stream_options: { include_usage: true } }),
    );
    expect(sentOptions(0)).toEqual({ include_usage: true });
    const last = asked.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    const other = await read(
      t.llm.chatStream({
        messages: MESSAGES,
        stream_options: { include_usage: false, include_obfuscation: false },
      }),
    );
    expect(sentOptions(1)).toEqual({ include_usage: true, include_obfuscation: false });
    expect(other.filter((c) => c.choices.length === 0)).toEqual([]);
  });

  it('sends a malformed stream_options as the caller wrote it, for the upstream to judge', async () => {
    const t = await boot('always');
    const malformed = ['x', [1], { include_usage: 'yes' }];
    for (const [i, options] of malformed.entries()) {
      await read(t.llm.chatStream({ messages: MESSAGES, stream_options: options }));
      expect(sentOptions(i)).toEqual(options);
    }
  });

  it('sends the stream again without the field when the upstream refuses it, and stops adding it', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const upstream = await startLoopbackUpstream((req, res) => {
      let text = '';
      req.on('data', (part: Buffer) => (text += part.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        bodies.push(body);
        if ('stream_options' in body) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                message: 'Unrecognized request argument supplied: stream_options',
                type: 'invalid_request_error',
                param: null,
                code: null,
              },
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.end(
          `${chunk({ role: 'assistant', content: 'Hi' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`,
        );
      });
    });
    try {
      const t = await startLlmApp(upstream.baseUrl, { streamUsage: 'always' });
      apps.push(t);
      for (let i = 0; i < 2; i++) {
        const chunks = await read(t.llm.chatStream({ messages: MESSAGES }));
        expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi');
      }
      // The first stream twice (refused, then as the caller wrote it), the second once.
      expect(bodies.map((b) => b.stream_options)).toEqual([
        { include_usage: true },
        undefined,
        undefined,
      ]);
    } finally {
      await upstream.close();
    }
  });

  it("'auto' (the default) asks only OpenAI's own API; 'never' asks no upstream", async () => {
    for (const streamUsage of [undefined, 'never'] as const) {
      sim.reset();
      const t = await boot(streamUsage);
      const chunks = await read(t.llm.chatStream({ messages: MESSAGES }));
      expect(chunks.length).toBeGreaterThan(1);
      expect(sentOptions(0)).toBeUndefined();
      const [call] = await eventually(() => t.recorder.calls.length === 1 && t.recorder.calls);
      expect(call!.response?.outputTokens).toBeUndefined();
    }
  });
});
