import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import { LLM_RESOLVED_OPTIONS } from '../src/llm/llm.constants';
import {
  LlmModuleOptions,
  LlmUpstreamOptions,
  ResolvedLlmOptions,
} from '../src/llm/llm-module.options';
import { LlmOptionsError } from '../src/llm/llm-options.resolver';
import { TEST_API_KEY } from './support/llm-test-app';

async function boot(options: LlmModuleOptions): Promise<LlmClient> {
  const moduleRef = await Test.createTestingModule({
    imports: [LlmModule.forRoot(options)],
  }).compile();
  return moduleRef.get(LlmClient);
}

async function bootError(options: unknown): Promise<LlmOptionsError> {
  try {
    await boot(options as LlmModuleOptions);
  } catch (error) {
    return error as LlmOptionsError;
  }
  throw new Error('expected the module to fail at startup');
}

const valid = {
  name: 'openai',
  baseUrl: 'https://api.openai.com/v1/',
  defaultModel: 'gpt-4o-mini',
};

describe('LlmModule options', () => {
  it('boots with one upstream and the seed defaults', async () => {
    const llm = await boot({ upstreams: [valid] });
    expect(llm.upstreamNames).toEqual(['openai']);
  });

  it('boots through forRootAsync with a factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRootAsync({ useFactory: () => Promise.resolve({ upstreams: [valid] }) }),
      ],
    }).compile();
    expect(moduleRef.get(LlmClient).upstreamNames).toEqual(['openai']);
  });

  describe('defaults that conflict with a value you set give way, and say so once', () => {
    let lines: string[];
    beforeEach(() => {
      lines = [];
      jest
        .spyOn(Logger.prototype, 'log')
        .mockImplementation((message: unknown) => void lines.push(String(message)));
    });
    afterEach(() => jest.restoreAllMocks());

    it.each<[string, LlmUpstreamOptions, object, string]>([
      [
        'a total deadline below the default attempt timeout',
        { ...valid, timeouts: { totalMs: 30_000 } },
        { timeouts: { attemptMs: 30_000, totalMs: 30_000 } },
        'timeouts.attemptMs 30000 (default 60000; not above timeouts.totalMs)',
      ],
      [
        'a retry cap below the default base delay',
        { ...valid, retry: { maxDelayMs: 500 } },
        { retry: { baseDelayMs: 500, maxDelayMs: 500 } },
        'retry.baseDelayMs 500 (default 1000; not above retry.maxDelayMs)',
      ],
      [
        'a longest break below the default first break',
        { ...valid, breaker: { halfOpenAfterMs: 200 } },
        { breaker: { minHalfOpenAfterMs: 200, halfOpenAfterMs: 200 } },
        'breaker.minHalfOpenAfterMs 200 (default 250; not above breaker.halfOpenAfterMs)',
      ],
      [
        'an attempt timeout above the default total deadline',
        { ...valid, timeouts: { attemptMs: 200_000 } },
        { timeouts: { attemptMs: 200_000, totalMs: 200_000 } },
        'timeouts.totalMs 200000 (default 120000; not below timeouts.attemptMs)',
      ],
    ])('%s', async (_case, upstream, inForce, note) => {
      const moduleRef = await Test.createTestingModule({
        imports: [LlmModule.forRoot({ upstreams: [upstream] })],
      }).compile();
      const resolved = moduleRef.get<ResolvedLlmOptions>(LLM_RESOLVED_OPTIONS);
      expect(resolved.upstreams.get('openai')).toMatchObject(inForce);
      const startup = lines.filter((line) => line.includes('defaults adjusted'));
      expect(startup).toEqual([
        `Upstream 'openai': defaults adjusted to the values you set: ${note}.`,
      ]);
    });

    it('says nothing when no default conflicts', async () => {
      await boot({ upstreams: [{ ...valid, timeouts: { totalMs: 90_000 } }] });
      expect(lines.filter((line) => line.includes('defaults adjusted'))).toEqual([]);
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['no upstreams', { upstreams: [] }, /upstreams must be a non-empty array/],
    [
      'a missing baseUrl',
      { upstreams: [{ ...valid, baseUrl: undefined }] },
      /upstreams\[0\]\.baseUrl must be a non-empty string/,
    ],
    [
      'a relative baseUrl',
      { upstreams: [{ ...valid, baseUrl: 'api/v1' }] },
      /upstreams\[0\]\.baseUrl must be an absolute URL/,
    ],
    [
      'a missing defaultModel',
      { upstreams: [{ ...valid, defaultModel: '' }] },
      /upstreams\[0\]\.defaultModel must be a non-empty string/,
    ],
    [
      'negative retries',
      { upstreams: [{ ...valid, retry: { maxRetries: -1 } }] },
      /upstreams\[0\]\.retry\.maxRetries must be a finite number ≥ 0, got -1/,
    ],
    [
      'fractional retries',
      { upstreams: [{ ...valid, retry: { maxRetries: 1.5 } }] },
      /upstreams\[0\]\.retry\.maxRetries must be a whole number/,
    ],
    [
      'a string timeout',
      { upstreams: [{ ...valid, timeouts: { attemptMs: '60s' } }] },
      /upstreams\[0\]\.timeouts\.attemptMs must be a finite number ≥ 0, got '60s'/,
    ],
    [
      'an unknown option',
      { upstreams: [{ ...valid, breaker: { threshold: 5 } }] },
      /upstreams\[0\]\.breaker\.threshold is not an option \(known: consecutiveFailures, halfOpenAfterMs, minHalfOpenAfterMs, maxWaitMs\)/,
    ],
    [
      'a zero bulkhead',
      { upstreams: [{ ...valid, bulkhead: { maxConcurrent: 0 } }] },
      /bulkhead\.maxConcurrent must be greater than 0/,
    ],
    [
      'attempt longer than total, both set',
      { upstreams: [{ ...valid, timeouts: { attemptMs: 5000, totalMs: 1000 } }] },
      /upstreams\[0\]\.timeouts\.attemptMs \(5000\) must not exceed timeouts\.totalMs \(1000\)/,
    ],
    [
      'a first break longer than the longest, both set',
      { upstreams: [{ ...valid, breaker: { minHalfOpenAfterMs: 5000, halfOpenAfterMs: 1000 } }] },
      /upstreams\[0\]\.breaker\.minHalfOpenAfterMs \(5000\) must not exceed breaker\.halfOpenAfterMs \(1000\)/,
    ],
    [
      'duplicate names',
      { upstreams: [valid, valid] },
      /upstreams\[1\]\.name 'openai' is used twice/,
    ],
    [
      'an unknown default upstream',
      { upstreams: [valid], defaultUpstream: 'azure' },
      /defaultUpstream 'azure' is not the name of any upstream/,
    ],
    [
      'a bad shared default',
      { upstreams: [valid], defaults: { retry: { baseDelayMs: -5 } } },
      /upstreams\[0\]\.retry\.baseDelayMs must be a finite number/,
    ],
  ])('fails at startup on %s, naming the field', async (_case, options, message) => {
    const error = await bootError(options);
    expect(error).toBeInstanceOf(LlmOptionsError);
    expect(error.message).toMatch(message);
  });

  it('never echoes an API key in a startup error', async () => {
    const error = await bootError({
      upstreams: [{ ...valid, apiKey: TEST_API_KEY, retry: { maxRetries: -1 } }],
    });
    expect(error.message).not.toContain(TEST_API_KEY);
  });
});
