import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LlmClient } from '../src/llm/client/llm-client';
import {
  LLM_JOBS_RESOLVED_OPTIONS,
  type LlmJobsOptionsFactory,
} from '../src/llm/jobs/llm-jobs.module-definition';
import { LlmJobsModule } from '../src/llm/jobs/llm-jobs.module';
import type { ResolvedLlmJobsOptions } from '../src/llm/jobs/llm-jobs.options';
import { LlmJobsOptionsError } from '../src/llm/jobs/llm-jobs-options.resolver';
import { LlmModule } from '../src/llm/llm.module';
import { LLM_RESOLVED_OPTIONS } from '../src/llm/llm.constants';
import type { LlmOptionsFactory } from '../src/llm/llm.module-definition';
import {
  LlmModuleOptions,
  LlmUpstreamOptions,
  ResolvedLlmOptions,
} from '../src/llm/llm-module.options';
import { LlmOptionsError } from '../src/llm/options/llm-options.error';
import { resolveLlmOptions } from '../src/llm/options/llm-options.resolver';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, TEST_API_KEY, USER } from './support/llm-test-app';

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

  it('boots with isGlobal beside the options: an extra of forRoot, not an unknown option', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LlmModule.forRoot({ upstreams: [valid], isGlobal: false })],
    }).compile();
    expect(moduleRef.get(LlmClient).upstreamNames).toEqual(['openai']);
  });

  describe('isGlobal must be a real boolean: a truthy string would make the module global', () => {
    it.each<[string, unknown, string]>([
      ["the string 'false'", 'false', "got 'false' (a string: write false, without quotes)"],
      ['a number', 0, 'got 0'],
    ])('forRoot refuses %s at startup, naming isGlobal', async (_case, isGlobal, got) => {
      const error = await failureOf<LlmOptionsError>(() =>
        Test.createTestingModule({
          imports: [LlmModule.forRoot({ upstreams: [valid], isGlobal: isGlobal as boolean })],
        }).compile(),
      );
      expect(error).toBeInstanceOf(LlmOptionsError);
      expect(error.problems).toEqual([
        `isGlobal must be true or false, beside the options in forRoot or forRootAsync; ${got}`,
      ]);
    });

    it('forRootAsync refuses it too, listed with the problems of the options', async () => {
      const error = await failureOf<LlmOptionsError>(() =>
        Test.createTestingModule({
          imports: [
            LlmModule.forRootAsync({
              isGlobal: 'true' as unknown as boolean,
              useFactory: () => ({ upstreams: [{ ...valid, name: '' }] }),
            }),
          ],
        }).compile(),
      );
      expect(error).toBeInstanceOf(LlmOptionsError);
      expect(error.problems).toEqual([
        'isGlobal must be true or false, beside the options in forRoot or forRootAsync; ' +
          "got 'true' (a string: write true, without quotes)",
        'upstreams[0].name is empty — is the environment variable that feeds it unset?',
      ]);
    });

    it('isGlobal returned inside the options (from a factory) says where it goes', () => {
      const error = (() => {
        try {
          resolveLlmOptions({ upstreams: [valid], isGlobal: true } as LlmModuleOptions);
        } catch (thrown) {
          return thrown as LlmOptionsError;
        }
        throw new Error('expected the options to be refused');
      })();
      expect(error.problems).toEqual([
        'isGlobal is not an option here: it goes beside the options in forRoot or forRootAsync (not inside them)',
      ]);
    });

    it('isGlobal: false still scopes the module, true (the default) still makes it global', () => {
      expect(LlmModule.forRoot({ upstreams: [valid], isGlobal: false }).global).toBe(false);
      expect(LlmModule.forRoot({ upstreams: [valid] }).global).toBe(true);
      expect(LlmModule.forRoot({ upstreams: [valid], isGlobal: 'false' as never }).global).toBe(
        false,
      );
    });
  });

  it('boots through forRootAsync with a factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRootAsync({ useFactory: () => Promise.resolve({ upstreams: [valid] }) }),
      ],
    }).compile();
    expect(moduleRef.get(LlmClient).upstreamNames).toEqual(['openai']);
  });

  describe('forRootAsync with an options class: createLlmOptions(), as Nest modules name it', () => {
    @Injectable()
    class LlmConfig implements LlmOptionsFactory {
      createLlmOptions(): Promise<LlmModuleOptions> {
        return Promise.resolve({ upstreams: [valid] });
      }
    }

    it('useClass: builds the class and calls its createLlmOptions()', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [LlmModule.forRootAsync({ useClass: LlmConfig })],
      }).compile();
      expect(moduleRef.get(LlmClient).upstreamNames).toEqual(['openai']);
    });

    it("useExisting: calls createLlmOptions() of the imported module's provider", async () => {
      @Module({ providers: [LlmConfig], exports: [LlmConfig] })
      class LlmConfigModule {}
      const moduleRef = await Test.createTestingModule({
        imports: [LlmModule.forRootAsync({ imports: [LlmConfigModule], useExisting: LlmConfig })],
      }).compile();
      expect(moduleRef.get(LlmClient).upstreamNames).toEqual(['openai']);
    });
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
        { ...valid, timeouts: { deadlineMs: 30_000 } },
        { timeouts: { attemptMs: 30_000, deadlineMs: 30_000 } },
        'timeouts.attemptMs 30000 (default 60000; not above timeouts.deadlineMs)',
      ],
      [
        'a retry cap below the default base delay',
        { ...valid, retry: { maxDelayMs: 500 } },
        { retry: { baseDelayMs: 500, maxDelayMs: 500 } },
        'retry.baseDelayMs 500 (default 1000; not above retry.maxDelayMs)',
      ],
      [
        'a longest break below the default first break',
        { ...valid, breaker: { maxBreakMs: 200 } },
        { breaker: { minBreakMs: 200, maxBreakMs: 200 } },
        'breaker.minBreakMs 200 (default 250; not above breaker.maxBreakMs)',
      ],
      [
        'an attempt timeout above the default total deadline',
        { ...valid, timeouts: { attemptMs: 200_000 } },
        { timeouts: { attemptMs: 200_000, deadlineMs: 200_000 } },
        'timeouts.deadlineMs 200000 (default 120000; not below timeouts.attemptMs)',
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
      await boot({ upstreams: [{ ...valid, timeouts: { deadlineMs: 90_000 } }] });
      expect(lines.filter((line) => line.includes('defaults adjusted'))).toEqual([]);
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['no upstreams', { upstreams: [] }, /upstreams must be a non-empty array/],
    [
      'a missing baseUrl',
      { upstreams: [{ ...valid, baseUrl: undefined }] },
      /upstreams\[0\]\.baseUrl is required \(e\.g\. "https:\/\/api\.openai\.com\/v1"\), and is not set/,
    ],
    [
      'a relative baseUrl',
      { upstreams: [{ ...valid, baseUrl: 'api/v1' }] },
      /upstreams\[0\]\.baseUrl must be an absolute URL/,
    ],
    [
      'a missing defaultModel',
      { upstreams: [{ ...valid, defaultModel: '' }] },
      /upstreams\[0\]\.defaultModel is empty — is the environment variable that feeds it unset\?/,
    ],
    [
      'negative retries',
      { upstreams: [{ ...valid, retry: { maxRetries: -1 } }] },
      /upstreams\[0\]\.retry\.maxRetries must be a whole number ≥ 0, got -1/,
    ],
    [
      'fractional retries',
      { upstreams: [{ ...valid, retry: { maxRetries: 1.5 } }] },
      /upstreams\[0\]\.retry\.maxRetries must be a whole number/,
    ],
    [
      'a string timeout',
      { upstreams: [{ ...valid, timeouts: { attemptMs: '60s' } }] },
      /upstreams\[0\]\.timeouts\.attemptMs must be a number greater than 0, got '60s', not a number/,
    ],
    [
      'a timeout longer than Node can time (it would fire after 1 ms)',
      { upstreams: [{ ...valid, timeouts: { attemptMs: 3_000_000_000, deadlineMs: 2 ** 31 } }] },
      /upstreams\[0\]\.timeouts\.attemptMs must be at most 2147483647 \(Node's longest timer, about 24\.8 days\), got 3000000000/,
    ],
    [
      'a key read from a file with its newline',
      { upstreams: [{ ...valid, apiKey: 'sk-from-a-secret-file\n' }] },
      /upstreams\[0\]\.apiKey holds a line break or another control character, which a header cannot carry \(value not shown; a key read from a file often ends in a newline: trim it\)/,
    ],
    [
      'a header value with a line break',
      { upstreams: [{ ...valid, headers: { 'x-team': 'a\r\nb' } }] },
      /upstreams\[0\]\.headers\['x-team'\] holds a line break/,
    ],
    [
      'an unknown option',
      { upstreams: [{ ...valid, breaker: { threshold: 5 } }] },
      /upstreams\[0\]\.breaker\.threshold is not an option \(known: consecutiveFailures, maxBreakMs, minBreakMs, maxProbeWaitMs\)/,
    ],
    [
      'a zero bulkhead',
      { upstreams: [{ ...valid, bulkhead: { maxConcurrent: 0 } }] },
      /upstreams\[0\]\.bulkhead\.maxConcurrent must be a whole number ≥ 1, got 0/,
    ],
    [
      'attempt longer than total, both set',
      { upstreams: [{ ...valid, timeouts: { attemptMs: 5000, deadlineMs: 1000 } }] },
      /upstreams\[0\]\.timeouts\.attemptMs \(5000\) must not exceed timeouts\.deadlineMs \(1000\)/,
    ],
    [
      'attempt longer than total, both in defaults (named there, once for every upstream)',
      {
        defaults: { timeouts: { attemptMs: 5000, deadlineMs: 1000 } },
        upstreams: [valid, { ...valid, name: 'second' }],
      },
      /\(1\):\n\s+- defaults\.timeouts\.attemptMs \(5000\) must not exceed timeouts\.deadlineMs \(1000\)$/,
    ],
    [
      'attempt on the upstream longer than the total in defaults',
      {
        defaults: { timeouts: { deadlineMs: 1000 } },
        upstreams: [{ ...valid, timeouts: { attemptMs: 5000 } }],
      },
      /upstreams\[0\]\.timeouts\.attemptMs \(5000\) must not exceed defaults\.timeouts\.deadlineMs \(1000\)/,
    ],
    [
      'a first break longer than the longest, both set',
      { upstreams: [{ ...valid, breaker: { minBreakMs: 5000, maxBreakMs: 1000 } }] },
      /upstreams\[0\]\.breaker\.minBreakMs \(5000\) must not exceed breaker\.maxBreakMs \(1000\)/,
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
      'a baseUrl with a fragment',
      { upstreams: [{ ...valid, baseUrl: 'https://api.openai.com/v1#chat' }] },
      /upstreams\[0\]\.baseUrl must not contain a fragment/,
    ],
    [
      'a baseUrl ending in an empty fragment',
      { upstreams: [{ ...valid, baseUrl: 'https://api.openai.com/v1#' }] },
      /upstreams\[0\]\.baseUrl must not contain a fragment/,
    ],
    [
      "an apiKey given with its 'Bearer ' scheme",
      { upstreams: [{ ...valid, apiKey: `Bearer ${TEST_API_KEY}` }] },
      /upstreams\[0\]\.apiKey starts with 'Bearer ' \(value not shown\): give the key alone/,
    ],
    [
      'an apiKey with spaces around it',
      { upstreams: [{ ...valid, apiKey: ` ${TEST_API_KEY} ` }] },
      /upstreams\[0\]\.apiKey has spaces or line breaks around it \(value not shown\)/,
    ],
    [
      'an Authorization header beside an apiKey',
      {
        upstreams: [
          { ...valid, apiKey: TEST_API_KEY, headers: { Authorization: `Bearer ${TEST_API_KEY}x` } },
        ],
      },
      /upstreams\[0\]\.headers\['Authorization'\] conflicts with upstreams\[0\]\.apiKey/,
    ],
    [
      'an upstream name with spaces around it',
      { upstreams: [valid, { ...valid, name: ' primary ' }] },
      /upstreams\[1\]\.name has spaces around it \(" primary "\): names are matched exactly, so \{ upstream: 'primary' \} would find no upstream; trim it/,
    ],
    [
      'an upstream name with a trailing newline (read from a file)',
      { upstreams: [{ ...valid, name: 'primary\n' }] },
      /upstreams\[0\]\.name holds a line break, tab or another control character \("primary\\n"\)/,
    ],
    [
      'an upstream name with a control character inside',
      { upstreams: [{ ...valid, name: 'pri\u0000mary' }] },
      /upstreams\[0\]\.name holds a line break, tab or another control character \("pri\\u0000mary"\)/,
    ],
    [
      'an upstream name of spaces only',
      { upstreams: [{ ...valid, name: '   ' }] },
      /upstreams\[0\]\.name is empty/,
    ],
    [
      'a bad shared default',
      { upstreams: [valid], defaults: { retry: { baseDelayMs: -5 } } },
      /defaults\.retry\.baseDelayMs must be a number ≥ 0, got -5/,
    ],
  ])('fails at startup on %s, naming the field', async (_case, options, message) => {
    const error = await bootError(options);
    expect(error).toBeInstanceOf(LlmOptionsError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TEST_API_KEY);
  });

  it('refuses at startup an upstream header name Node would refuse on every request', async () => {
    const error = await bootError({
      upstreams: [{ ...valid, headers: { 'x-team id': 'a', 'OpenAI-Organization': 'org-1' } }],
    });
    expect(error).toBeInstanceOf(LlmOptionsError);
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^upstreams\[0\]\.headers .*not a valid HTTP header name \("x-team id"\)/,
      ),
    ]);
  });

  it('never echoes an API key in a startup error', async () => {
    const error = await bootError({
      upstreams: [{ ...valid, apiKey: TEST_API_KEY, retry: { maxRetries: -1 } }],
    });
    expect(error.message).not.toContain(TEST_API_KEY);
  });
});

/** Like @nestjs/config's ConfigService: strings from the environment, undefined when unset. */
class EnvConfig {
  constructor(private readonly env: Record<string, string | undefined>) {}
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as ConfigService.get's default
  get<T = any>(name: string): T | undefined {
    return this.env[name] as T | undefined;
  }
}

/** The options an application builds from its environment, as the README's forRootAsync does. */
function optionsFrom(config: EnvConfig): LlmModuleOptions {
  return {
    upstreams: [
      {
        name: 'openai',
        baseUrl: config.get('OPENAI_BASE_URL') as string,
        apiKey: config.get('OPENAI_API_KEY'),
        defaultModel: config.get('OPENAI_MODEL') ?? 'gpt-4o-mini',
        retry: {
          maxRetries: config.get('LLM_MAX_RETRIES'),
          baseDelayMs: config.get('LLM_RETRY_MS'),
        },
        timeouts: { deadlineMs: config.get('LLM_DEADLINE_MS') },
        limits: { rpm: config.get('LLM_RPM') },
      },
    ],
    redis: { url: config.get('REDIS_URL') },
    events: { elasticsearch: { node: config.get('ES_URL') }, log: config.get('LLM_EVENTS_LOG') },
    tracing: { captureContent: config.get('LLM_CAPTURE_CONTENT') },
  };
}

/** Boots LlmModule through forRootAsync, injecting the config service as an app would. */
async function bootFromEnv(
  env: Record<string, string | undefined>,
  build: (config: EnvConfig) => unknown = optionsFrom,
) {
  @Global()
  @Module({
    providers: [{ provide: EnvConfig, useValue: new EnvConfig(env) }],
    exports: [EnvConfig],
  })
  class EnvConfigModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      LlmModule.forRootAsync({
        imports: [EnvConfigModule],
        inject: [EnvConfig],
        useFactory: (config: EnvConfig) => build(config) as LlmModuleOptions,
      }),
    ],
  }).compile();
  return { moduleRef, resolved: moduleRef.get<ResolvedLlmOptions>(LLM_RESOLVED_OPTIONS) };
}

async function problemsFromEnv(
  env: Record<string, string | undefined>,
  build?: (config: EnvConfig) => unknown,
): Promise<readonly string[]> {
  const error = await failureOf<LlmOptionsError>(() => bootFromEnv(env, build));
  expect(error).toBeInstanceOf(LlmOptionsError);
  return error.problems;
}

const BASE_ENV = { OPENAI_BASE_URL: 'https://api.openai.com/v1' };

describe('LlmModule options from the environment (forRootAsync + a ConfigService)', () => {
  it('takes undefined as "not set": unset optional variables boot with the defaults, and no Redis, cluster or budget', async () => {
    const { resolved } = await bootFromEnv(BASE_ENV);
    const upstream = resolved.upstreams.get('openai')!;
    expect(upstream.retry).toEqual({
      maxRetries: 3,
      baseDelayMs: 1000,
      maxDelayMs: 32_000,
      maxServerHintMs: 60_000,
    });
    expect(upstream.timeouts.deadlineMs).toBe(120_000);
    expect(upstream.apiKey).toBeUndefined();
    expect(upstream.limits).toBeUndefined();
    expect(resolved.redis).toBeUndefined();
    expect(resolved.events).toEqual({ log: false });
    expect(resolved.tracing.captureContent).toBe(false);
  });

  it("reads numeric strings as numbers and 'true'/'false' as booleans", async () => {
    const { resolved } = await bootFromEnv({
      ...BASE_ENV,
      LLM_MAX_RETRIES: '3',
      LLM_RETRY_MS: ' 250 ',
      LLM_DEADLINE_MS: '2500',
      LLM_RPM: '600',
      LLM_EVENTS_LOG: 'false',
      LLM_CAPTURE_CONTENT: 'TRUE',
      REDIS_URL: 'redis://127.0.0.1:6399',
    });
    const upstream = resolved.upstreams.get('openai')!;
    expect(upstream.retry).toMatchObject({ maxRetries: 3, baseDelayMs: 250 });
    expect(upstream.timeouts.deadlineMs).toBe(2500);
    expect(upstream.limits?.rpm).toBe(600);
    expect(resolved.events.log).toBe(false);
    expect(resolved.tracing.captureContent).toBe(true);
    expect(resolved.redis).toMatchObject({ url: 'redis://127.0.0.1:6399', timeoutMs: 200 });
  });

  it("a retry count read as the string '1' really retries once", async () => {
    const sim = await UpstreamSimulator.start();
    const { moduleRef } = await bootFromEnv({
      OPENAI_BASE_URL: sim.baseUrl,
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_MS: '5',
    });
    const app = await moduleRef.init();
    try {
      sim.script([{ type: 'error', status: 503, repeat: 5 }]);
      const error = await failureOf<{ attempts: number }>(() =>
        app.get(LlmClient).chat({ messages: USER }),
      );
      expect(error.attempts).toBe(2);
      expect(sim.requests).toHaveLength(2);
    } finally {
      await app.close();
      await sim.close();
    }
  });

  it('names the field and the shape of a value that is not a number, NaN included, and never echoes a key-shaped value', async () => {
    const problems = await problemsFromEnv(BASE_ENV, (config) => ({
      ...optionsFrom(config),
      defaults: { retry: { maxRetries: 'abc' }, timeouts: { attemptMs: NaN } },
      drain: { timeoutMs: TEST_API_KEY },
    }));
    expect(problems).toEqual([
      "defaults.retry.maxRetries must be a whole number ≥ 0, got 'abc', not a number",
      'defaults.timeouts.attemptMs must be a number greater than 0, got NaN',
      `drain.timeoutMs must be a whole number ≥ 0, got a ${TEST_API_KEY.length}-character string (not shown), not a number`,
    ]);
    expect(problems.join('\n')).not.toContain(TEST_API_KEY);
  });

  it('names an empty API key or URL and asks whether its variable is unset', async () => {
    const problems = await problemsFromEnv({
      OPENAI_BASE_URL: '',
      OPENAI_API_KEY: '',
      REDIS_URL: '',
    });
    expect(problems).toEqual([
      'upstreams[0].baseUrl is empty — is the environment variable that feeds it unset?',
      'upstreams[0].apiKey is empty — is the environment variable that feeds it unset?',
      'redis.url is empty — is the environment variable that feeds it unset?',
    ]);
  });

  it('asks the same of an empty number or switch (NAME= in an .env file), not "not a number"', async () => {
    const problems = await problemsFromEnv({
      ...BASE_ENV,
      LLM_RPM: '',
      LLM_MAX_RETRIES: ' ',
      LLM_CAPTURE_CONTENT: '',
    });
    expect(problems).toEqual([
      'upstreams[0].retry.maxRetries is empty — is the environment variable that feeds it unset?',
      'upstreams[0].limits.rpm is empty — is the environment variable that feeds it unset?',
      'tracing.captureContent is empty — is the environment variable that feeds it unset?',
    ]);
  });

  it('refuses unknown keys with a "did you mean", at the top level and nested', async () => {
    const problems = await problemsFromEnv(BASE_ENV, (config) => {
      const options = optionsFrom(config);
      return {
        ...options,
        retry: { maxRetries: 2 },
        default: {},
        limit: { rpm: 10 },
        upstreams: [{ ...options.upstreams[0], retry: { maxRetry: 2 }, maxConcurrent: 4 }],
        events: { elasticsearch: { node: 'http://es:9200', flushMs: 5 } },
      };
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'retry is not an option; did you mean defaults.retry?',
        'default is not an option; did you mean defaults?',
        'limit is not an option; did you mean defaults.limits?',
        'upstreams[0].maxConcurrent is not an option; did you mean upstreams[0].bulkhead.maxConcurrent?',
        'upstreams[0].retry.maxRetry is not an option; did you mean upstreams[0].retry.maxRetries?',
        'events.elasticsearch.flushMs is not an option; did you mean events.elasticsearch.flushIntervalMs?',
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('points an old (renamed) option at its new name', async () => {
    const problems = await problemsFromEnv(BASE_ENV, (config) => {
      const options = optionsFrom(config);
      return {
        ...options,
        defaults: { breaker: { maxWaitMs: 1000 }, limits: { maxWaiting: 10 } },
        upstreams: [
          { ...options.upstreams[0], timeouts: { totalMs: 5000 }, retry: { maxHintMs: 1000 } },
        ],
      };
    });
    expect(problems).toEqual([
      'defaults.breaker.maxWaitMs was renamed to maxProbeWaitMs: use defaults.breaker.maxProbeWaitMs (see CHANGELOG.md)',
      'defaults.limits.maxWaiting was renamed to maxQueue: use defaults.limits.maxQueue (see CHANGELOG.md)',
      'upstreams[0].retry.maxHintMs was renamed to maxServerHintMs: use upstreams[0].retry.maxServerHintMs (see CHANGELOG.md)',
      'upstreams[0].timeouts.totalMs was renamed to deadlineMs: use upstreams[0].timeouts.deadlineMs (see CHANGELOG.md)',
    ]);
  });

  it('lists the problems of every section in one round, each with its field path', async () => {
    const error = await failureOf<LlmOptionsError>(() =>
      bootFromEnv(
        {
          ...BASE_ENV,
          LLM_MAX_RETRIES: 'three',
          LLM_RPM: '0',
          REDIS_URL: 'http://cache:6379',
          ES_URL: 'es:9200',
          LLM_EVENTS_LOG: 'yes',
        },
        (config) => ({ ...optionsFrom(config), drain: { timeoutMs: -1 }, healthz: {} }),
      ),
    );
    expect(error).toBeInstanceOf(LlmOptionsError);
    expect(error.problems).toEqual([
      'healthz is not an option; did you mean health?',
      "upstreams[0].retry.maxRetries must be a whole number ≥ 0, got 'three', not a number",
      "upstreams[0].limits.rpm must be a whole number ≥ 1, got '0'",
      "events.log must be true or false (or the string 'true' or 'false'), got 'yes'",
      "events.elasticsearch.node must be the cluster's http(s) URL, e.g. 'http://localhost:9200'",
      'drain.timeoutMs must be a whole number ≥ 0, got -1',
      'redis.url must be a redis:// or rediss:// URL such as redis://localhost:6379',
    ]);
    expect(error.message).toContain('Invalid LlmModule options (7):\n  - healthz is not an option');
  });
});

describe('LlmJobsModule options from the environment: the same checks', () => {
  async function bootJobs(env: Record<string, string | undefined>) {
    const config = new EnvConfig(env);
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot({ upstreams: [valid] }),
        LlmJobsModule.forRootAsync({
          useFactory: () => ({
            rabbitmqUrl: config.get('RABBITMQ_URL') as string,
            redis: { url: config.get('REDIS_URL') as string },
            maxDeliveries: config.get('JOBS_MAX_DELIVERIES'),
            holdMs: config.get('JOBS_HOLD_MS'),
            worker: config.get('JOBS_WORKER'),
          }),
        }),
      ],
    }).compile();
    // Not initialised: nothing connects; the options are resolved as the providers are built.
    return moduleRef.get<ResolvedLlmJobsOptions>(LLM_JOBS_RESOLVED_OPTIONS);
  }

  it("takes numeric strings, 'false', and undefined as the default", async () => {
    const resolved = await bootJobs({
      RABBITMQ_URL: 'amqp://127.0.0.1:5699',
      REDIS_URL: 'redis://127.0.0.1:6399',
      JOBS_MAX_DELIVERIES: '3',
      JOBS_WORKER: 'false',
    });
    expect(resolved).toMatchObject({ maxDeliveries: 3, worker: false, holdMs: 60_000 });
  });

  it("forRootAsync({ useClass }) calls the class's createLlmJobsOptions()", async () => {
    @Injectable()
    class JobsConfig implements LlmJobsOptionsFactory {
      createLlmJobsOptions() {
        return { rabbitmqUrl: 'amqp://127.0.0.1:5699', redis: { url: 'redis://127.0.0.1:6399' } };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot({ upstreams: [valid] }),
        LlmJobsModule.forRootAsync({ useClass: JobsConfig }),
      ],
    }).compile();
    const resolved = moduleRef.get<ResolvedLlmJobsOptions>(LLM_JOBS_RESOLVED_OPTIONS);
    expect(resolved).toMatchObject({ rabbitmqUrl: 'amqp://127.0.0.1:5699' });
  });

  it('lists every problem at once, with field paths and without echoing the URLs', async () => {
    const error = await failureOf<LlmJobsOptionsError>(() =>
      bootJobs({ RABBITMQ_URL: '', REDIS_URL: 'redis://:s3cret@', JOBS_HOLD_MS: '10' }),
    );
    expect(error).toBeInstanceOf(LlmJobsOptionsError);
    expect(error.problems).toEqual([
      'rabbitmqUrl is empty — is the environment variable that feeds it unset?',
      "holdMs must be a whole number ≥ 100, got '10'",
    ]);
  });
});
