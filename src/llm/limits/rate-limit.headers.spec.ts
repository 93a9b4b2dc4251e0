import { providerBudgetViews } from './rate-limit.headers';

describe('providerBudgetViews', () => {
  it("reads OpenAI's remaining and reset pairs", () => {
    expect(
      providerBudgetViews({
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '6m0s',
      }),
    ).toEqual([
      { dimension: 'requests', remaining: 59, resetMs: 1000 },
      { dimension: 'tokens', remaining: 0, resetMs: 360_000 },
    ]);
  });

  it.each([
    [{ 'x-ratelimit-remaining-requests': '0' }],
    [{ 'x-ratelimit-reset-requests': '1s' }],
    [{ 'x-ratelimit-remaining-requests': '-1', 'x-ratelimit-reset-requests': '1s' }],
    [{ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': 'soon' }],
  ])('skips an incomplete or malformed pair %j', (headers) => {
    expect(providerBudgetViews(headers)).toEqual([]);
  });
});
