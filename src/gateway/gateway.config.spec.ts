import { LLM_DEFAULTS } from '../llm/index';
import { resolveLlmOptions } from '../llm/options/llm-options.resolver';
import { GatewayConfigError } from './env.reader';
import { onBuiltInSimulator } from './built-in-simulator';
import { loadGatewayConfig } from './gateway.config';
import { toLlmModuleOptions } from './llm-options.factory';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    if (error instanceof GatewayConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a GatewayConfigError');
}

describe('loadGatewayConfig', () => {
  it('defaults everything, leaving policies to LlmModule', () => {
    const config = loadGatewayConfig({});
    expect(config).toEqual({
      port: 3000,
      // Loopback: without inbound keys, anyone who reaches the port spends the upstream key.
      host: '127.0.0.1',
      simPort: 4010,
      serviceName: 'llm-gateway',
      models: ['gpt-4o-mini'],
      llm: {
        baseUrl: undefined,
        apiKey: undefined,
        model: 'gpt-4o-mini',
        upstreamName: 'primary',
        provider: 'openai',
        policies: { retry: {}, breaker: {}, bulkhead: {}, timeouts: {} },
        failReadinessWhenOpen: false,
      },
      events: { log: true },
      inbound: {
        apiKeys: [],
        corsOrigins: [],
        shutdownDelayMs: 5000,
        drainTimeoutMs: undefined,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5000,
        sendTimeoutMs: 60_000,
        bodyLimitBytes: 10 * 1024 * 1024,
        httpPlatform: 'express',
      },
    });
  });

  it('reads GATEWAY_HTTP_PLATFORM, express or fastify, and names it when it is neither', () => {
    expect(loadGatewayConfig({ GATEWAY_HTTP_PLATFORM: 'fastify' }).inbound.httpPlatform).toBe(
      'fastify',
    );
    expect(loadGatewayConfig({ GATEWAY_HTTP_PLATFORM: 'Express' }).inbound.httpPlatform).toBe(
      'express',
    );
    expect(problemsOf({ GATEWAY_HTTP_PLATFORM: 'koa' })).toEqual([
      "GATEWAY_HTTP_PLATFORM must be one of express, fastify, got 'koa'",
    ]);
  });

  it('binds every interface by default only when callers need a key (GATEWAY_API_KEYS)', () => {
    const keys = ['a'.repeat(16), 'b'.repeat(20)].join(',');
    expect(loadGatewayConfig({ GATEWAY_API_KEYS: keys }).host).toBe('0.0.0.0');
    expect(loadGatewayConfig({ GATEWAY_API_KEYS: keys, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    expect(loadGatewayConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('rejects a short inbound key without echoing it', () => {
    const run = () => loadGatewayConfig({ GATEWAY_API_KEYS: 'short-key-1' });
    expect(run).toThrow(/GATEWAY_API_KEYS entry 1 must be at least 16 characters/);
    expect(run).not.toThrow(/short-key-1/);
  });

  it('describes a key-shaped value in a number variable without echoing it', () => {
    const key = ['sk', 'live', 'A1b2C3d4E5f6G7h8'].join('-');
    const run = () => loadGatewayConfig({ LLM_MAX_RETRIES: key });
    expect(run).toThrow(/LLM_MAX_RETRIES must be a whole number ≥ 0, got a 24-character value/);
    expect(run).not.toThrow(new RegExp(key.slice(-12)));
  });

  it('reads every variable into LlmModule options the module accepts', () => {
    const config = loadGatewayConfig({
      PORT: '8080',
      LLM_BASE_URL: 'https://api.deepseek.com/v1',
      LLM_API_KEY: 'sk-secret',
      LLM_MODEL: 'deepseek-chat',
      LLM_MODELS: 'deepseek-reasoner, ,deepseek-chat',
      LLM_UPSTREAM_NAME: 'deepseek',
      LLM_PROVIDER: 'deepseek',
      LLM_MAX_RETRIES: '0',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      LLM_BREAKER_FAILURES: '2',
      LLM_BREAKER_HALF_OPEN_MS: '200',
      LLM_BREAKER_MAX_WAIT_MS: '300',
      LLM_MAX_CONCURRENCY: '4',
      LLM_MAX_QUEUE: '0',
      LLM_CONNECT_TIMEOUT_MS: '100',
      LLM_ATTEMPT_TIMEOUT_MS: '1000',
      LLM_TOTAL_TIMEOUT_MS: '2000',
      LLM_FIRST_CHUNK_TIMEOUT_MS: '500',
      LLM_IDLE_TIMEOUT_MS: '300',
      LLM_READY_FAIL_WHEN_OPEN: 'TRUE',
    });
    expect(config.models).toEqual(['deepseek-chat', 'deepseek-reasoner']);
    const resolved = resolveLlmOptions(toLlmModuleOptions(config));
    expect(resolved.health.failReadinessWhenOpen).toBe(true);
    expect(resolved.upstreams.get('deepseek')).toMatchObject({
      apiKey: 'sk-secret',
      defaultModel: 'deepseek-chat',
      provider: 'deepseek',
      retry: { maxRetries: 0, baseDelayMs: 5, maxDelayMs: 20 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 200, maxProbeWaitMs: 300 },
      bulkhead: { maxConcurrent: 4, maxQueue: 0 },
      timeouts: {
        connectMs: 100,
        attemptMs: 1000,
        deadlineMs: 2000,
        firstChunkMs: 500,
        idleMs: 300,
      },
    });
  });

  it('reads LLM_RPM, LLM_TPM, LLM_RATE_WINDOW_MS, LLM_REPLICAS and REDIS_URL into shared budgets', () => {
    const config = loadGatewayConfig({
      LLM_BASE_URL: 'http://127.0.0.1:4010/v1',
      LLM_RPM: '600',
      LLM_TPM: '90000',
      LLM_RATE_WINDOW_MS: '10000',
      LLM_REPLICAS: '3',
      REDIS_URL: 'redis://:s3cret@127.0.0.1:6379/2',
    });
    const resolved = resolveLlmOptions(toLlmModuleOptions(config));
    expect(resolved.upstreams.get('primary')?.limits).toMatchObject({
      rpm: 600,
      tpm: 90000,
      windowMs: 10000,
      replicas: 3,
    });
    expect(resolved.redis).toMatchObject({ url: 'redis://:s3cret@127.0.0.1:6379/2' });
  });

  it('leaves the upstream unlimited and Redis unused without LLM_RPM, LLM_TPM and REDIS_URL', () => {
    const config = loadGatewayConfig({ LLM_BASE_URL: 'http://127.0.0.1:4010/v1' });
    const resolved = resolveLlmOptions(toLlmModuleOptions(config));
    expect(resolved.upstreams.get('primary')?.limits).toBeUndefined();
    expect(resolved.redis).toBeUndefined();
  });

  it('never repeats REDIS_URL, which may hold a password, in an error', () => {
    const problems = problemsOf({ REDIS_URL: 'http://:s3cret@127.0.0.1:6379' });
    expect(problems).toEqual([
      'REDIS_URL must be a redis:// or rediss:// URL such as redis://localhost:6379',
    ]);
  });

  it('treats empty values as unset', () => {
    expect(loadGatewayConfig({ PORT: '', LLM_MAX_RETRIES: ' ' }).port).toBe(3000);
  });

  it.each([
    ['LLM_MAX_RETRIES', 'abc', "LLM_MAX_RETRIES must be a whole number ≥ 0, got 'abc'"],
    ['LLM_BREAKER_FAILURES', '0', "LLM_BREAKER_FAILURES must be a whole number ≥ 1, got '0'"],
    ['LLM_TOTAL_TIMEOUT_MS', '1.5', "LLM_TOTAL_TIMEOUT_MS must be a whole number ≥ 1, got '1.5'"],
    ['PORT', '70000', "PORT must be a whole number from 0 to 65535, got '70000'"],
    [
      'LLM_READY_FAIL_WHEN_OPEN',
      'maybe',
      "LLM_READY_FAIL_WHEN_OPEN must be true or false, got 'maybe'",
    ],
    ['LLM_BASE_URL', 'api.openai.com', 'LLM_BASE_URL must be an absolute http(s) URL'],
    ['LLM_RPM', '0', "LLM_RPM must be a whole number ≥ 1, got '0'"],
    ['LLM_STREAM_USAGE', 'yes', "LLM_STREAM_USAGE must be one of auto, always, never, got 'yes'"],
    [
      'GATEWAY_BODY_LIMIT_MB',
      '0',
      "GATEWAY_BODY_LIMIT_MB must be a whole number from 1 to 100, got '0'",
    ],
    [
      'GATEWAY_BODY_LIMIT_MB',
      '101',
      "GATEWAY_BODY_LIMIT_MB must be a whole number from 1 to 100, got '101'",
    ],
    [
      'GATEWAY_BODY_LIMIT_MB',
      '10mb',
      "GATEWAY_BODY_LIMIT_MB must be a whole number from 1 to 100, got '10mb'",
    ],
    ['LLM_TPM', '1e5', "LLM_TPM must be a whole number ≥ 1, got '1e5'"],
    [
      'LLM_REPLICAS',
      '2',
      'LLM_RATE_WINDOW_MS, LLM_RATE_INTERVAL_MS and LLM_REPLICAS need a budget',
    ],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('reports every problem at once, and set values out of order by their variables', () => {
    const problems = problemsOf({
      LLM_MAX_QUEUE: '-1',
      LLM_RETRY_BASE_MS: '50',
      LLM_RETRY_MAX_MS: '20',
    });
    expect(problems).toEqual([
      "LLM_MAX_QUEUE must be a whole number ≥ 0, got '-1'",
      'LLM_RETRY_BASE_MS (50) must not exceed LLM_RETRY_MAX_MS (20)',
    ]);
  });

  it.each([
    [{ LLM_TOTAL_TIMEOUT_MS: '30000' }, { timeouts: { attemptMs: 30_000, deadlineMs: 30_000 } }],
    [{ LLM_RETRY_MAX_MS: '20' }, { retry: { baseDelayMs: 20, maxDelayMs: 20 } }],
    [
      { LLM_ATTEMPT_TIMEOUT_MS: '200000' },
      { timeouts: { attemptMs: 200_000, deadlineMs: 200_000 } },
    ],
    [{ LLM_BREAKER_HALF_OPEN_MS: '200' }, { breaker: { minBreakMs: 200, maxBreakMs: 200 } }],
  ])('boots with %j alone: the conflicting default gives way', (env, inForce) => {
    const resolved = resolveLlmOptions(
      toLlmModuleOptions(loadGatewayConfig({ LLM_BASE_URL: 'http://127.0.0.1:4010/v1', ...env })),
    );
    const upstream = resolved.upstreams.get('primary')!;
    expect(upstream).toMatchObject(inForce);
    expect(upstream.adjusted).toHaveLength(1);
  });

  it('ships events to ELASTICSEARCH_URL with its credentials instead of stdout', () => {
    const withKey = loadGatewayConfig({
      ELASTICSEARCH_URL: 'http://localhost:9200',
      ELASTICSEARCH_API_KEY: 'es-key',
    });
    expect(withKey.events).toEqual({
      elasticsearch: { node: 'http://localhost:9200', auth: { apiKey: 'es-key' } },
      log: false,
    });
    const resolved = resolveLlmOptions(
      toLlmModuleOptions({ ...withKey, llm: { ...withKey.llm, baseUrl: 'http://sim/v1' } }),
    );
    expect(resolved.events.elasticsearch).toMatchObject({ node: 'http://localhost:9200' });
    const basic = loadGatewayConfig({
      ELASTICSEARCH_URL: 'https://es:9200',
      ELASTICSEARCH_USERNAME: 'elastic',
      ELASTICSEARCH_PASSWORD: 'changeme',
      LLM_EVENTS_LOG: 'true',
    });
    expect(basic.events).toEqual({
      elasticsearch: {
        node: 'https://es:9200',
        auth: { username: 'elastic', password: 'changeme' },
      },
      log: true,
    });
  });

  it('turns the stdout events off with LLM_EVENTS_LOG=false', () => {
    expect(loadGatewayConfig({ LLM_EVENTS_LOG: 'false' }).events).toEqual({ log: false });
  });

  it.each([
    [
      { ELASTICSEARCH_URL: 'elastic:s3cret@es:9200' },
      'ELASTICSEARCH_URL must be an absolute http(s) URL',
    ],
    [{ ELASTICSEARCH_API_KEY: 'k' }, 'need ELASTICSEARCH_URL'],
    [
      { ELASTICSEARCH_URL: 'http://es:9200', ELASTICSEARCH_USERNAME: 'elastic' },
      'both ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD',
    ],
  ])('rejects incomplete Elasticsearch settings %j without echoing them', (env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
    for (const value of Object.values(env)) expect(problems[0]).not.toContain(value);
  });

  describe('LLM_FALLBACKS', () => {
    it('reads per-model chains, trimmed, into the upstream fallbacks', () => {
      const config = loadGatewayConfig({
        LLM_BASE_URL: 'http://127.0.0.1:4010/v1',
        LLM_FALLBACKS: ' gpt-4o = gpt-4o-mini , gpt-4.1-mini ;; * = gpt-4o-mini ; ',
      });
      expect(config.llm.fallbacks).toEqual({
        'gpt-4o': ['gpt-4o-mini', 'gpt-4.1-mini'],
        '*': ['gpt-4o-mini'],
      });
      const resolved = resolveLlmOptions(toLlmModuleOptions(config));
      expect(resolved.upstreams.get('primary')?.fallbacks).toEqual({
        'gpt-4o': [
          { upstream: 'primary', model: 'gpt-4o-mini' },
          { upstream: 'primary', model: 'gpt-4.1-mini' },
        ],
        '*': [{ upstream: 'primary', model: 'gpt-4o-mini' }],
      });
    });

    it('leaves the upstream without fallbacks when unset or blank', () => {
      for (const value of [undefined, '', ' ; ']) {
        const config = loadGatewayConfig({
          LLM_BASE_URL: 'http://127.0.0.1:4010/v1',
          LLM_FALLBACKS: value,
        });
        expect(config.llm.fallbacks).toBeUndefined();
        expect(
          resolveLlmOptions(toLlmModuleOptions(config)).upstreams.get('primary')?.fallbacks,
        ).toEqual({});
      }
    });

    it.each([
      ['a missing =', 'gpt-4o', "entry 'gpt-4o' has no '='"],
      ['an empty model', '=gpt-4o-mini', "entry '=gpt-4o-mini' names no model"],
      ['an empty target list', 'gpt-4o=', "entry 'gpt-4o=' has an empty fallback model"],
      ['an empty target', 'gpt-4o=a,,b', "entry 'gpt-4o=a,,b' has an empty fallback model"],
      ['a , instead of ;', 'gpt-4o=a,o3=b', "entry 'gpt-4o=a,o3=b' has more than one '='"],
      ['a model falling back to itself', 'gpt-4o=a, gpt-4o', "from 'gpt-4o' to itself"],
      ['* as a target', 'gpt-4o=*', "entry 'gpt-4o=*' uses '*' as a fallback"],
      ['a target listed twice', 'gpt-4o=a,a', "lists the fallback 'a' twice"],
      [
        'a model given twice',
        'gpt-4o=a; gpt-4o =b',
        "entry 'gpt-4o =b' names model 'gpt-4o' again",
      ],
      ['* given twice', '*=a;*=b', "entry '*=b' names model '*' again"],
    ])('rejects %s, naming LLM_FALLBACKS and the entry', (_case, value, message) => {
      const problems = problemsOf({ LLM_FALLBACKS: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^LLM_FALLBACKS entry /);
      expect(problems[0]).toContain(message);
    });

    it('reports every malformed entry at once', () => {
      expect(problemsOf({ LLM_FALLBACKS: 'a;b=b;c=d' })).toEqual([
        expect.stringContaining("LLM_FALLBACKS entry 'a' has no '='"),
        expect.stringContaining("LLM_FALLBACKS entry 'b=b' falls back from 'b' to itself"),
      ]);
    });
  });

  it('never repeats the API key in an error', () => {
    try {
      loadGatewayConfig({ LLM_API_KEY: 'sk-do-not-print', LLM_MAX_RETRIES: 'x' });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('sk-do-not-print');
    }
    expect.assertions(1);
  });

  describe('the renamed options keep their variables', () => {
    const resolve = (env: NodeJS.ProcessEnv) =>
      resolveLlmOptions(
        toLlmModuleOptions(loadGatewayConfig({ LLM_BASE_URL: 'http://127.0.0.1:4010/v1', ...env })),
      ).upstreams.get('primary')!;

    it.each<[string, string, (u: ReturnType<typeof resolve>) => number]>([
      ['LLM_BREAKER_MAX_WAIT_MS', '0', (u) => u.breaker.maxProbeWaitMs],
      ['LLM_BREAKER_HALF_OPEN_MS', '40000', (u) => u.breaker.maxBreakMs],
      ['LLM_BREAKER_MIN_HALF_OPEN_MS', '100', (u) => u.breaker.minBreakMs],
      ['LLM_TOTAL_TIMEOUT_MS', '90000', (u) => u.timeouts.deadlineMs],
    ])('%s=%s sets the option it always set', (name, value, read) => {
      expect(read(resolve({ [name]: value }))).toBe(Number(value));
    });

    it('hands LlmModule only what the environment set: unset variables take its defaults', () => {
      const upstream = resolve({});
      expect(upstream.retry).toEqual(LLM_DEFAULTS.retry);
      expect(upstream.breaker).toEqual(LLM_DEFAULTS.breaker);
      expect(upstream.bulkhead).toEqual(LLM_DEFAULTS.bulkhead);
      expect(upstream.timeouts).toEqual(LLM_DEFAULTS.timeouts);
    });
  });
});

describe('onBuiltInSimulator', () => {
  it('points the upstream at the simulator, whose streams report their usage unless LLM_STREAM_USAGE says otherwise', () => {
    const sim = { baseUrl: 'http://127.0.0.1:4010/v1' };
    const on = onBuiltInSimulator(loadGatewayConfig({}), sim);
    expect(on.llm).toMatchObject({ baseUrl: sim.baseUrl, streamUsage: 'always' });
    const never = onBuiltInSimulator(loadGatewayConfig({ LLM_STREAM_USAGE: 'never' }), sim);
    expect(never.llm.streamUsage).toBe('never');
    expect(toLlmModuleOptions(on).upstreams[0]!.streamUsage).toBe('always');
    expect(
      toLlmModuleOptions(loadGatewayConfig({ LLM_BASE_URL: sim.baseUrl })).upstreams[0]!
        .streamUsage,
    ).toBeUndefined();
  });
});
