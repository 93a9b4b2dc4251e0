import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, LlmTestApp, startLlmApp, USER } from './support/llm-test-app';

describe('smoke', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    t = await startLlmApp(sim.baseUrl);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });
  it('chat', async () => {
    sim.script([{ type: 'error', status: 503 }, { type: 'ok', content: 'hi' }]);
    const r = await t.llm.chat({ messages: USER });
    console.log(r.metadata, r.completion.choices[0]);
    const s = t.llm.chatStream({ messages: USER });
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    console.log(text, s.metadata);
    sim.script([{ type: 'error', status: 401 }]);
    const e = await failureOf(() => t.llm.chat({ messages: USER }));
    console.log(e);
  });
});
