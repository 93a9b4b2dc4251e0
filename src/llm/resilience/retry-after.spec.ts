import { headerValue, parseOpenAiDuration, parseServerHint, parseShouldRetry } from './retry-after';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('parseOpenAiDuration', () => {
  it.each([
    ['20ms', 20],
    ['1s', 1000],
    ['1.5s', 1500],
    ['6m0s', 360_000],
    ['1m30.5s', 90_500],
    ['2h0m0s', 7_200_000],
    ['3', 3000],
    ['0.25', 250],
    [' 7s ', 7000],
    ['0s', 0],
  ])('reads %j as %d ms', (text, expected) => {
    expect(parseOpenAiDuration(text)).toBe(expected);
  });

  it.each(['', 'abc', '-1s', '-3', '1x', 's', '1.s', '1m 2s', 'NaN', 'Infinity'])(
    'rejects %j',
    (text) => {
      expect(parseOpenAiDuration(text)).toBeUndefined();
    },
  );
});

describe('headerValue', () => {
  it('takes the first value of an array', () => {
    expect(headerValue({ 'x-request-id': ['req_1', 'req_2'] }, 'x-request-id')).toBe('req_1');
  });

  it('turns a number into text', () => {
    expect(headerValue({ 'retry-after': 3 }, 'retry-after')).toBe('3');
  });

  it('finds a header spelled in another case', () => {
    expect(headerValue({ 'Retry-After': '3' }, 'retry-after')).toBe('3');
  });

  it('treats an empty value as absent', () => {
    expect(headerValue({ 'retry-after': '  ' }, 'retry-after')).toBeUndefined();
  });
});

describe('parseServerHint', () => {
  it('prefers retry-after-ms over retry-after', () => {
    const hint = parseServerHint({ 'retry-after-ms': '1234.5', 'retry-after': '9' }, 429, NOW);
    expect(hint).toEqual({ delayMs: 1234.5, source: 'retry-after-ms' });
  });

  it('falls through an invalid retry-after-ms to retry-after', () => {
    const hint = parseServerHint({ 'retry-after-ms': 'soon', 'retry-after': '2' }, 503, NOW);
    expect(hint).toEqual({ delayMs: 2000, source: 'retry-after' });
  });

  it('skips a negative retry-after-ms', () => {
    expect(parseServerHint({ 'retry-after-ms': '-5' }, 503, NOW)).toBeUndefined();
  });

  it('reads retry-after as an HTTP date relative to now', () => {
    const date = new Date(NOW + 30_000).toUTCString();
    expect(parseServerHint({ 'retry-after': date }, 503, NOW)).toEqual({
      delayMs: 30_000,
      source: 'retry-after',
    });
  });

  it('clamps an HTTP date in the past to 0', () => {
    const date = new Date(NOW - 30_000).toUTCString();
    expect(parseServerHint({ 'retry-after': date }, 503, NOW)?.delayMs).toBe(0);
  });

  it('skips a retry-after that is neither seconds nor a date', () => {
    expect(parseServerHint({ 'retry-after': '3 apples' }, 503, NOW)).toBeUndefined();
  });

  it('takes the first retry-after of an array', () => {
    expect(parseServerHint({ 'retry-after': ['4', '8'] }, 503, NOW)?.delayMs).toBe(4000);
  });

  it('ignores x-ratelimit-reset-* unless the status is 429', () => {
    const headers = { 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-remaining-requests': '0' };
    expect(parseServerHint(headers, 503, NOW)).toBeUndefined();
    expect(parseServerHint(headers, undefined, NOW)).toBeUndefined();
  });

  it('uses the tokens reset when the token budget is exhausted', () => {
    const hint = parseServerHint(
      {
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '6m0s',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '20ms',
      },
      429,
      NOW,
    );
    expect(hint).toEqual({ delayMs: 360_000, source: 'x-ratelimit-reset-tokens' });
  });

  it('uses the requests reset when only the request budget is exhausted', () => {
    const hint = parseServerHint(
      {
        'x-ratelimit-remaining-tokens': '1500',
        'x-ratelimit-reset-tokens': '6m0s',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1.5s',
      },
      429,
      NOW,
    );
    expect(hint).toEqual({ delayMs: 1500, source: 'x-ratelimit-reset-requests' });
  });

  it('takes the longer reset when no remaining header says which budget ran out', () => {
    const hint = parseServerHint(
      { 'x-ratelimit-reset-tokens': '200ms', 'x-ratelimit-reset-requests': '2s' },
      429,
      NOW,
    );
    expect(hint).toEqual({ delayMs: 2000, source: 'x-ratelimit-reset-requests' });
  });

  it('takes the only valid reset when the other is garbage', () => {
    const hint = parseServerHint(
      { 'x-ratelimit-reset-tokens': 'later', 'x-ratelimit-reset-requests': '2s' },
      429,
      NOW,
    );
    expect(hint).toEqual({ delayMs: 2000, source: 'x-ratelimit-reset-requests' });
  });

  it('skips an exhausted budget whose reset is invalid', () => {
    const hint = parseServerHint(
      {
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': 'later',
        'x-ratelimit-reset-requests': '700ms',
      },
      429,
      NOW,
    );
    expect(hint).toEqual({ delayMs: 700, source: 'x-ratelimit-reset-requests' });
  });

  it('returns undefined when no header gives a wait', () => {
    expect(parseServerHint({ 'content-type': 'application/json' }, 429, NOW)).toBeUndefined();
  });
});

describe('parseShouldRetry', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['False', false],
    ['maybe', undefined],
  ])('reads %j as %s', (value, expected) => {
    expect(parseShouldRetry({ 'x-should-retry': value })).toBe(expected);
  });

  it('is undefined when the header is absent', () => {
    expect(parseShouldRetry({})).toBeUndefined();
  });
});
