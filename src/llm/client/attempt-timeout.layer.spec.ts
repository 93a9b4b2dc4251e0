import { once } from 'node:events';
import { CallDeadline } from '../resilience/call-deadline';
import { AttemptTimeout } from './attempt-timeout.layer';

describe('AttemptTimeout', () => {
  const where = { upstream: 'u', model: 'm', attempts: 1 };

  it('relabel() keeps the armed timer and makes it time out for the new reason', async () => {
    const timeout = new AttemptTimeout(new AbortController().signal);
    timeout.arm('attempt_timeout', 30);
    timeout.relabel('first_chunk_timeout', 25);
    await once(timeout.signal, 'abort');
    timeout.dispose();

    expect(timeout.reason).toBe('first_chunk_timeout');
    const deadline = new CallDeadline(1000);
    const error = timeout.toError(new Error('aborted'), deadline, where);
    deadline.dispose();
    expect(error.kind).toBe('timeout');
    expect(error.message).toBe(
      "Upstream 'u' model 'm' sent no content chunk within the first-chunk timeout (25 ms).",
    );
  });

  it('arm() after relabel() times out for the reason armed last', async () => {
    const timeout = new AttemptTimeout(new AbortController().signal);
    timeout.arm('attempt_timeout', 5000);
    timeout.relabel('first_chunk_timeout', 4000);
    timeout.arm('idle_timeout', 20);
    await once(timeout.signal, 'abort');
    timeout.dispose();

    expect(timeout.reason).toBe('idle_timeout');
  });

  it('armAfterSend() sets its timer on the next tick, and none once disposed first', async () => {
    const timeout = new AttemptTimeout(new AbortController().signal);
    timeout.armAfterSend('attempt_timeout', 20);
    await once(timeout.signal, 'abort');
    timeout.dispose();
    expect(timeout.reason).toBe('attempt_timeout');

    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const early = new AttemptTimeout(new AbortController().signal);
    early.armAfterSend('attempt_timeout', 5000);
    early.dispose();
    await new Promise((resolve) => process.nextTick(resolve));
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBe(before);
    expect(early.signal.aborted).toBe(false);
  });
});
