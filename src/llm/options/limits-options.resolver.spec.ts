import { Redis } from 'ioredis';
import { type LlmModuleOptions } from '../llm-module.options';
import { LlmOptionsError } from './llm-options.error';
import { resolveLlmOptions } from './llm-options.resolver';

const upstream = { name: 'openai', baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4o' };

function problemsOf(options: Partial<LlmModuleOptions>): readonly string[] {
  try {
    resolveLlmOptions({ upstreams: [upstream], ...options });
  } catch (error) {
    if (error instanceof LlmOptionsError) return error.problems;
    throw error;
  }
  throw new Error('expected LlmOptionsError');
}

describe('limits and redis options', () => {
  it('fills in the defaults and lets a model override the upstream numbers', () => {
    const resolved = resolveLlmOptions({
      upstreams: [{ ...upstream, limits: { rpm: 500, models: { 'gpt-4o': { tpm: 30_000 } } } }],
      defaults: { limits: { tpm: 100_000, replicas: 3 } },
    });
    expect(resolved.upstreams.get('openai')?.limits).toEqual({
      rpm: 500,
      tpm: 100_000,
      models: { 'gpt-4o': { rpm: 500, tpm: 30_000 } },
      maxQueue: 1000,
      replicas: 3,
      windowMs: 60_000,
      intervalMs: 1000,
      completionTokens: 256,
      refundUnusedTokens: true,
      adaptive: true,
    });
    expect(resolved.redis).toBeUndefined();
  });

  it("keeps adaptive: false (or 'false') from any layer", () => {
    const own = resolveLlmOptions({
      upstreams: [{ ...upstream, limits: { rpm: 5, adaptive: false } }],
    });
    expect(own.upstreams.get('openai')?.limits?.adaptive).toBe(false);
    const shared = resolveLlmOptions({
      upstreams: [{ ...upstream, limits: { rpm: 5 } }],
      defaults: { limits: { adaptive: 'false' as unknown as boolean } },
    });
    expect(shared.upstreams.get('openai')?.limits?.adaptive).toBe(false);
  });

  it('leaves an upstream without rpm or tpm unlimited', () => {
    const resolved = resolveLlmOptions({ upstreams: [{ ...upstream, limits: { replicas: 2 } }] });
    expect(resolved.upstreams.get('openai')?.limits).toBeUndefined();
  });

  it('names every wrong field', () => {
    const problems = problemsOf({
      upstreams: [
        {
          ...upstream,
          limits: {
            rpm: 0,
            tpm: 1.5,
            windowMs: 60,
            replicas: 0,
            maxQueue: -1,
            adaptive: 'yes' as unknown as boolean,
            rps: 3,
            models: { 'gpt-4o': { rpm: -1, rps: 2 } },
          } as never,
        },
      ],
      redis: { url: 'http://user:s3cret@localhost:6379', timeoutMs: 0 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'upstreams[0].limits.rps is not an option; did you mean upstreams[0].limits.rpm?',
        'upstreams[0].limits.rpm must be a whole number ≥ 1, got 0',
        'upstreams[0].limits.tpm must be a whole number ≥ 1, got 1.5',
        'upstreams[0].limits.windowMs must be a whole number ≥ 100, got 60',
        'upstreams[0].limits.replicas must be a whole number ≥ 1, got 0',
        'upstreams[0].limits.maxQueue must be a whole number ≥ 0, got -1',
        "upstreams[0].limits.adaptive must be true or false (or the string 'true' or 'false'), got 'yes'",
        "upstreams[0].limits.models['gpt-4o'].rps is not an option; did you mean upstreams[0].limits.models['gpt-4o'].rpm?",
        "upstreams[0].limits.models['gpt-4o'].rpm must be a whole number ≥ 1, got -1",
        'redis.url must be a redis:// or rediss:// URL such as redis://localhost:6379',
        'redis.timeoutMs must be a whole number ≥ 1, got 0',
      ]),
    );
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('takes redis without url or client (an unset variable) as no Redis, and refuses both', () => {
    expect(resolveLlmOptions({ upstreams: [upstream], redis: {} }).redis).toBeUndefined();
    expect(
      resolveLlmOptions({ upstreams: [upstream], redis: { url: undefined } }).redis,
    ).toBeUndefined();
    expect(problemsOf({ redis: { url: '' } })).toEqual([
      'redis.url is empty — is the environment variable that feeds it unset?',
    ]);
    const client = new Redis({ lazyConnect: true });
    try {
      expect(problemsOf({ redis: { url: 'redis://localhost:6379', client } })).toHaveLength(1);
      const resolved = resolveLlmOptions({ upstreams: [upstream], redis: { client } });
      expect(resolved.redis).toEqual({ client, keyPrefix: 'llm:ratelimit:', timeoutMs: 200 });
    } finally {
      client.disconnect();
    }
    expect(problemsOf({ redis: { client: {} as Redis } })).toEqual([
      'redis.client must be an ioredis client (new Redis(...))',
    ]);
  });

  it('reports an upstream that is not an object once, and still checks the others', () => {
    expect(
      problemsOf({ upstreams: [null as never, { ...upstream, retry: { maxRetries: -1 } }] }),
    ).toEqual([
      "upstreams[0] must be an object such as { name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey, defaultModel }, got null",
      'upstreams[1].retry.maxRetries must be a whole number ≥ 0, got -1',
    ]);
  });
});
