import type { ChatCompletionChunk } from '../src/llm/call/chat.types';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type CallRecorder, recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { type LlmTestApp, startLlmApp } from './support/llm-test-app';

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
    // Every chunk the caller gets has its choices: the usage-only last one stayed here.
    expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
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
