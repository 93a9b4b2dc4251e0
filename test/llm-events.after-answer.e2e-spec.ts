import { Test } from '@nestjs/testing';
import { type CallRecord } from '../src/llm/call/call-record';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import { type LlmEventDocument } from '../src/llm/observability/events/llm-event.fields';
import { LlmEventSink } from '../src/llm/observability/events/llm-event.sink';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { FAST_POLICIES, TEST_API_KEY, USER } from './support/llm-test-app';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A sink that keeps what it is given, and notes when Nest shuts it down. */
class CapturingSink implements LlmEventSink {
  readonly log: (LlmEventDocument | 'sink shutdown')[] = [];
  write(event: LlmEventDocument): void {
    this.log.push(event);
  }
  onApplicationShutdown(): void {
    this.log.push('sink shutdown');
  }
  get events(): LlmEventDocument[] {
    return this.log.filter((e): e is LlmEventDocument => e !== 'sink shutdown');
  }
}

describe('call events are built after the caller has its answer', () => {
  let sim: UpstreamSimulator;
  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterAll(() => sim.close());

  async function boot() {
    const sink = new CapturingSink();
    const ref = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot({
          serviceName: 'after-answer',
          upstreams: [
            {
              name: 'sim',
              baseUrl: sim.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'gpt-4o-mini',
              ...FAST_POLICIES,
            },
          ],
          events: { log: true },
        }),
      ],
    })
      .overrideProvider(LlmEventSink)
      .useValue(sink)
      .compile();
    const app = await ref.init();
    const ended: CallRecord[] = [];
    app.get(LlmTelemetry).register({ onCallEnd: (call) => void ended.push(call) });
    return { app, llm: app.get(LlmClient), sink, ended };
  }

  it('hands the event to the sink on the next turn, with the times of the moment the call ended', async () => {
    const t = await boot();
    try {
      const { metadata } = await t.llm.chat({ messages: USER }, { userId: 'u-after' });
      // The answer is out; the event is not built yet.
      expect(t.sink.events).toHaveLength(0);
      const call = t.ended[0]!;
      // Time passes before the event is built: its fields must not move with it.
      await new Promise((resolve) => setTimeout(resolve, 30));
      await nextTurn();
      expect(t.sink.events).toHaveLength(1);
      const event = t.sink.events[0]!;
      expect(event).toMatchObject({
        'event.action': 'llm-call',
        'event.outcome': 'success',
        'event.id': metadata.clientRequestId,
        'user.id': 'u-after',
        'llm.attempts': 1,
        '@timestamp': new Date(call.endedAt!).toISOString(),
        'event.start': new Date(call.startedAt).toISOString(),
        'event.end': new Date(call.endedAt!).toISOString(),
        'event.duration': (call.endedAt! - call.startedAt) * 1_000_000,
      });
      expect(Date.now() - call.endedAt!).toBeGreaterThanOrEqual(25);
    } finally {
      await t.app.close();
    }
  });

  it('builds and writes the events still held when the app closes, before the sink shuts down', async () => {
    const t = await boot();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      // No turn passes between the calls' ends and the close: every event is still held.
      const calls = [0, 1].map(() => t.llm.chat({ messages: USER }));
      for (const { metadata } of await Promise.all(calls)) ids.push(metadata.clientRequestId);
    }
    expect(t.sink.events.length).toBeLessThan(6);
    await t.app.close();
    expect(t.sink.events.map((e) => e['event.id']).sort()).toEqual([...ids].sort());
    expect(t.sink.log.at(-1)).toBe('sink shutdown');
  });
});
