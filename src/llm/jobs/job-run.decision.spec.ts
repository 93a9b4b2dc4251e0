import { LlmError } from '../resilience/llm.errors';
import { decideAfterFailure, type JobRunFacts } from './job-run.decision';

const NOW = 1_000_000;
const facts = (over: Partial<JobRunFacts> = {}): JobRunFacts => ({
  failures: 0,
  maxDeliveries: 5,
  deadlineAt: NOW + 600_000,
  now: NOW,
  failureDelayMs: 1_000,
  ...over,
});

describe('decideAfterFailure', () => {
  it('turns a rate-limit wait into a delay of that wait, not counted as a failure', () => {
    const error = new LlmError('rate_limited', 'wait', { retryable: false, retryAfterMs: 45_000 });
    expect(decideAfterFailure(error, facts())).toEqual({
      action: 'delay',
      delayMs: 45_000,
      reason: 'rate_limited',
      countsAsFailure: false,
    });
  });

  it('turns an open circuit into a delay until it half-opens', () => {
    const error = new LlmError('circuit_open', 'open', { retryAfterMs: 27_000 });
    expect(decideAfterFailure(error, facts())).toMatchObject({
      action: 'delay',
      delayMs: 27_000,
      reason: 'circuit_open',
    });
  });

  it('fails the job when the wait would pass its deadline', () => {
    const error = new LlmError('rate_limited', 'wait', { retryAfterMs: 45_000 });
    expect(decideAfterFailure(error, facts({ deadlineAt: NOW + 30_000 }))).toEqual({
      action: 'fail',
    });
  });

  it('retries a retryable failure with a doubling delay, then dead-letters it', () => {
    const error = new LlmError('server_error', '500', { status: 500 });
    expect(decideAfterFailure(error, facts({ failures: 2 }))).toEqual({
      action: 'delay',
      delayMs: 4_000,
      reason: 'failure',
      countsAsFailure: true,
    });
    expect(decideAfterFailure(error, facts({ failures: 4 }))).toEqual({ action: 'dead_letter' });
  });

  it('fails at once what no run can fix, and anything past its deadline', () => {
    expect(decideAfterFailure(new LlmError('auth', 'bad key'), facts())).toEqual({
      action: 'fail',
    });
    const late = facts({ deadlineAt: NOW });
    expect(decideAfterFailure(new LlmError('server_error', '500'), late)).toEqual({
      action: 'fail',
    });
  });

  it('treats an error that is no LlmError as a retryable failure', () => {
    expect(decideAfterFailure(new Error('bug'), facts())).toMatchObject({
      action: 'delay',
      reason: 'failure',
    });
  });
});
