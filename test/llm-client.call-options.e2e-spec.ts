import { isLlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';

describe('LlmClient call options: a mistake is a bad_request LlmError naming the option', () => {
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
  beforeEach(() => sim.reset());

  it.each([
    ['deadlineMs past Node’s longest timer', { deadlineMs: 2 ** 31 }, 'deadlineMs'],
    ['deadlineMs 3e9', { deadlineMs: 3e9 }, 'deadlineMs'],
    ['deadlineMs 0', { deadlineMs: 0 }, 'deadlineMs'],
    ['a signal that is not an AbortSignal', { signal: {} }, 'signal'],
    ['options that are a string', 'fast', 'options'],
    // A typo silently lost the deadline; a number as a feature went into every label as is.
    ['an option that does not exist (deadline)', { deadline: 5 }, 'deadline'],
    ['featureName that is not a string', { featureName: 42 }, 'featureName'],
    ['userId that is an object', { userId: { id: 1 } }, 'userId'],
  ])('%s', async (_case, options, param) => {
    const error = await failureOf(() => t.llm.chat({ messages: USER }, options as never));
    expect(isLlmError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'bad_request', param, retryable: false });
    expect(sim.requests).toHaveLength(0);
  });

  it('says which option was meant', async () => {
    const error = await failureOf(() => t.llm.chat({ messages: USER }, { deadline: 5 } as never));
    expect(error.message).toContain("'deadline' is not a call option; did you mean deadlineMs?");
  });

  it('takes null options as none, and the longest timer as a deadline', async () => {
    sim.script([
      { type: 'ok', content: 'a' },
      { type: 'ok', content: 'b' },
    ]);
    const plain = await t.llm.chat({ messages: USER }, null as never);
    expect(plain.completion.choices[0]?.message.content).toBe('a');
    const longest = await t.llm.chat({ messages: USER }, { deadlineMs: 2 ** 31 - 1 });
    expect(longest.completion.choices[0]?.message.content).toBe('b');
  });
});
