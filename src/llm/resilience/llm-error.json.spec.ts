import { isLlmErrorJson } from './llm-error.json';
import { isLlmError, LlmError } from './llm.errors';

describe('LlmError over the wire', () => {
  const error = new LlmError('rate_limited', 'Upstream sim answered 429; retry in 2 s.', {
    status: 429,
    retryAfterMs: 2000,
    retryAfterSource: 'retry-after',
    requestId: 'req_1',
    attempts: 4,
    cause: new Error('socket details that must not travel'),
  });

  it('serialises to its documented plain form, message included, cause left out', () => {
    const wire = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(wire).toEqual({
      name: 'LlmError',
      kind: 'rate_limited',
      code: 'LLM_RATE_LIMITED',
      message: 'Upstream sim answered 429; retry in 2 s.',
      retryable: true,
      attempts: 4,
      status: 429,
      retryAfterMs: 2000,
      retryAfterSource: 'retry-after',
      requestId: 'req_1',
    });
    expect(isLlmErrorJson(wire)).toBe(true);
  });

  it('is rebuilt as a typed LlmError that the guard recognises', () => {
    const rebuilt = LlmError.fromJSON(JSON.parse(JSON.stringify(error)))!;
    expect(rebuilt).toBeInstanceOf(LlmError);
    expect(isLlmError(rebuilt)).toBe(true);
    expect(rebuilt.toJSON()).toEqual(error.toJSON());
  });

  it('rejects what is not the form, and bounds what a peer sends', () => {
    expect(
      LlmError.fromJSON({ status: 'error', message: 'Internal server error' }),
    ).toBeUndefined();
    expect(LlmError.fromJSON({ kind: 'auth', code: 'LLM_OTHER', message: 'x' })).toBeUndefined();
    const big = LlmError.fromJSON({
      kind: 'auth',
      code: 'LLM_AUTH',
      message: 'm'.repeat(10_000),
      status: -1,
      attempts: 'many',
    })!;
    expect(big.message).toHaveLength(2048);
    expect([big.status, big.attempts, big.retryable]).toEqual([undefined, 0, false]);
  });
});

describe("LlmError's upstream headers over the wire", () => {
  it("carries a 429's rate-limit headers both ways, and keeps only the named short ones", () => {
    const limited = new LlmError('rate_limited', 'Upstream sim answered 429.', {
      status: 429,
      upstreamHeaders: {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '6s',
      },
    });
    const wire = JSON.parse(JSON.stringify(limited)) as Record<string, unknown>;
    expect(wire.upstreamHeaders).toEqual({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '6s',
    });
    expect(LlmError.fromJSON(wire)?.upstreamHeaders).toEqual(wire.upstreamHeaders);
    const hostile = LlmError.fromJSON({
      ...wire,
      upstreamHeaders: {
        'x-ratelimit-remaining-requests': '1',
        'x-ratelimit-limit-tokens': 'x'.repeat(65),
        'x-ratelimit-reset-tokens': ['1s'],
        'x-ratelimit-limit-requests': 'a\r\nset-cookie: b',
        'x-ratelimit-remaining-tokens': '12 ab',
        'openai-processing-ms': '***',
        'set-cookie': 'session=1',
      },
    })!;
    expect(hostile.upstreamHeaders).toEqual({ 'x-ratelimit-remaining-requests': '1' });
    expect(LlmError.fromJSON({ ...wire, upstreamHeaders: ['0'] })?.upstreamHeaders).toBeUndefined();
  });
});
