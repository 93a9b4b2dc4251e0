import { LlmDrain } from '../src/llm/lifecycle/llm-drain';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { FAST_POLICIES, failureOf, startLlmApp, USER } from './support/llm-test-app';
import { eventually } from './support/eventually';

// The drain without the gateway, as any Nest app (or microservice) gets it from app.close().
describe('LlmDrain in a plain Nest app', () => {
  let sim: UpstreamSimulator;

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(() => sim.close());

  it('app.close() waits for calls and streams in flight before closing the transport', async () => {
    sim.configure({ latencyMs: 300 });
    // Timeouts well above the 300 ms latency: the drain is under test, not them (with the fast
    // policies' 500 ms first-chunk timeout, a loaded CI run timed the stream's first attempt out
    // and retried it).
    const t = await startLlmApp(
      sim.baseUrl,
      {
        timeouts: {
          ...FAST_POLICIES.timeouts,
          attemptMs: 3000,
          deadlineMs: 5000,
          firstChunkMs: 3000,
          idleMs: 3000,
        },
      },
      { drain: { timeoutMs: 5000 } },
    );
    const plain = t.llm.chat({ messages: USER });
    const stream = t.llm.chatStream({ messages: USER });
    const streamed = (async () => {
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    })();
    await eventually(() => sim.requests.length >= 2);
    await t.close();
    expect((await plain).completion.choices[0]?.message.content).toBeTruthy();
    expect(await streamed).not.toBe('');
    expect(sim.requests).toHaveLength(2);
  });

  it('ends calls still held at the drain timeout with shutting_down, not retried, and refuses new ones', async () => {
    sim.script([{ type: 'hang', repeat: 2 }]);
    const t = await startLlmApp(sim.baseUrl, {}, { drain: { timeoutMs: 150 } });
    const drain = t.app.get(LlmDrain);
    const held = failureOf<LlmError>(() => t.llm.chat({ messages: USER }));
    await eventually(() => sim.requests.length >= 1);
    expect(drain.inFlight).toBe(1);
    const result = await drain.drain();
    expect(result).toMatchObject({ inFlightAtStart: 1, ended: 1 });
    expect(await held).toMatchObject({ kind: 'shutting_down', retryable: false });
    const refused = await failureOf<LlmError>(() => t.llm.chat({ messages: USER }));
    expect(refused.kind).toBe('shutting_down');
    expect(sim.requests).toHaveLength(1);
    expect(t.policies.snapshots().every((b) => b.state === 'closed')).toBe(true);
    await t.close();
  });
});
