import { type INestApplicationContext, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Redis } from 'ioredis';
import type { CallRecord } from '../src/llm/call/call-record';
import { LlmClient } from '../src/llm/client/llm-client';
import { type LlmLimitOptions, type LlmRedisOptions } from '../src/llm/limits/llm-limits.options';
import type { LlmUpstreamOptions } from '../src/llm/llm-module.options';
import { type BudgetStore, type BudgetTake, type TakeResult } from '../src/llm/limits/budget.store';
import { FailoverBudgetStore } from '../src/llm/limits/failover-budget.store';
import { LimiterRedisConnection } from '../src/llm/limits/limiter-redis.connection';
import { MemoryBudgetStore } from '../src/llm/limits/memory-budget.store';
import { RedisBudgetStore } from '../src/llm/limits/redis-budget.store';
import { LlmModule } from '../src/llm/llm.module';
import { LLM_METRICS as M } from '../src/llm/observability/llm-metric.instruments';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './support/eventually';
import { FAST_POLICIES, TEST_API_KEY } from './support/llm-test-app';
import {
  expectFiveCallsQueuedTwoPerWindow,
  expectRefusedAtOnceOverDeadline,
  say,
  textOf,
} from './support/rate-limiter.checks';
import { RedisServer } from './support/redis-server';
import { TestMetricReader } from './support/test-metric-reader';

const reader = new TestMetricReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

let upstreams = 0;

/** The most requests the simulator received within any `windowMs`. */
function busiestWindow(arrivals: number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('rate limiter shared through Redis', () => {
  let sim: UpstreamSimulator;
  let redis: RedisServer;
  let probe: Redis;
  const apps: INestApplicationContext[] = [];

  /** One replica: LlmModule with budgets in the test's Redis, upstream `name`. */
  async function replica(
    name: string,
    limits: LlmLimitOptions,
    redisOptions: LlmRedisOptions = { url: redis.url },
    upstream: Partial<LlmUpstreamOptions> = {},
  ): Promise<LlmClient> {
    return (await recordedReplica(name, limits, redisOptions, upstream)).llm;
  }

  /** A replica that also records every call it ends, to read the limiter's wait per attempt. */
  async function recordedReplica(
    name: string,
    limits: LlmLimitOptions,
    redisOptions: LlmRedisOptions = { url: redis.url },
    upstream: Partial<LlmUpstreamOptions> = {},
  ): Promise<{ llm: LlmClient; calls: CallRecord[] }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot({
          upstreams: [
            {
              name,
              baseUrl: sim.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'gpt-4o-mini',
              ...FAST_POLICIES,
              ...upstream,
              limits,
            },
          ],
          redis: redisOptions,
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    return { llm: app.get(LlmClient), calls: recordCalls(app).calls };
  }

  /** The test's own connection to Redis, to look at the keys the budgets use. */
  async function probeReady(): Promise<Redis> {
    if (probe.status === 'wait') await probe.connect();
    await eventually(() => Promise.resolve(probe.status === 'ready'), { timeoutMs: 2000 });
    return probe;
  }

  /** Fails the test when the budgets left Redis for the local share: the point is Redis's path. */
  async function expectCountedInRedis(name: string, warn: jest.SpyInstance): Promise<void> {
    const fellBack = warn.mock.calls.map(([m]) => String(m)).filter((m) => /redis/i.test(m));
    expect(fellBack).toEqual([]);
    await probeReady();
    expect(await probe.exists(`llm:ratelimit:{${name}}:log`)).toBe(1);
  }

  const burst = (llm: LlmClient, n: number, deadlineMs = 150) =>
    Promise.allSettled(
      Array.from({ length: n }, (_, i) => llm.chat({ messages: say(`${i}`) }, { deadlineMs })),
    ).then((results) => results.filter((r) => r.status === 'fulfilled').length);

  beforeAll(async () => {
    [sim, redis] = await Promise.all([UpstreamSimulator.start(), RedisServer.start()]);
    probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
  });
  beforeEach(() => sim.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    probe.disconnect();
    await Promise.all([sim.close(), redis.close(), provider.shutdown()]);
  });

  it('keeps two replicas together under one budget', async () => {
    const name = `shared${++upstreams}`;
    const limits = { rpm: 5, windowMs: 1000 };
    const [a, b] = await Promise.all([replica(name, limits), replica(name, limits)]);
    const started = Date.now();
    const calls = [a, b].flatMap((llm) =>
      Array.from({ length: 5 }, (_, i) => llm.chat({ messages: say(`${i}`) })),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => r.metadata.attempts === 1)).toBe(true);
    const arrivals = sim.requests.map((r) => r.at);
    expect(arrivals).toHaveLength(10);
    // Alone, each replica would have sent its 5 at once (10 in any window). 200 ms of tolerance
    // for the jitter between admission and arrival on a busy test machine (first connections,
    // JIT): with 100 ms, a fresh-clone CI run once saw a first-window call arrive late enough to
    // share a 900 ms window with the second window's five.
    expect(busiestWindow(arrivals, 800)).toBe(5);
    expect(Math.max(...arrivals) - started).toBeGreaterThanOrEqual(990);
  });

  it('queues calls first come first served within their deadline: callers see latency, not a 429', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const name = `fifo${++upstreams}`;
    const t = await recordedReplica(name, { rpm: 2, windowMs: 400 });
    await expectFiveCallsQueuedTwoPerWindow(t.llm, sim, 400);
    // The wait is the limiter's, recorded on the attempt.
    const waits = t.calls.map((c) => c.attempts[0]!.limiterWaitMs).sort((a, b) => a - b);
    // The first window's two waited less than the next window's by at least half a window.
    expect(waits[2]! - waits[1]!).toBeGreaterThanOrEqual(200);
    expect(waits[2]).toBeGreaterThanOrEqual(350);
    expect(waits[4]).toBeGreaterThanOrEqual(750);
    const snapshot = await reader.read();
    const histogram = snapshot.histograms(M.limiterWait, { 'llm.upstream': name })[0];
    expect((histogram?.value as { count: number }).count).toBe(5);
    await expectCountedInRedis(name, warn);
  });

  it("makes a replica's calls wait, in their order, for the budget another replica spent", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const name = `spent${++upstreams}`;
    const limits = { rpm: 2, windowMs: 400 };
    const [a, b] = await Promise.all([
      recordedReplica(name, limits),
      recordedReplica(name, limits),
    ]);
    // A spends the window when its limiter admits its calls: after this, before they reach the
    // simulator (on a loaded machine, tens of ms before), so the waits are measured from here.
    const spentFrom = Date.now();
    await Promise.all([a.llm.chat({ messages: say('a 0') }), a.llm.chat({ messages: say('a 1') })]);
    // Alone, B would send two of these at once; A's two hold the shared window for 400 ms.
    const results = await Promise.all(
      [0, 1, 2].map((i) => b.llm.chat({ messages: say(`b ${i}`) })),
    );
    expect(results.every((r) => r.metadata.attempts === 1)).toBe(true);
    const arrived = sim.requests.map((r) => textOf(r.body));
    expect(new Set(arrived.slice(0, 2))).toEqual(new Set(['a 0', 'a 1']));
    expect(new Set(arrived.slice(2, 4))).toEqual(new Set(['b 0', 'b 1']));
    expect(arrived[4]).toBe('b 2');
    const at = sim.requests.map((r) => r.at - spentFrom);
    expect(at[2]).toBeGreaterThanOrEqual(395);
    expect(at[4]).toBeGreaterThanOrEqual(795);
    // B's first wait is A's window less A's round trip; its last, one more window on top.
    const waits = b.calls.map((c) => c.attempts[0]!.limiterWaitMs).sort((x, y) => x - y);
    expect(waits[0]).toBeGreaterThanOrEqual(250);
    expect(waits[2]! - waits[0]!).toBeGreaterThanOrEqual(380);
    await expectCountedInRedis(name, warn);
  });

  it('fails at once with a typed rate_limited error when the shared wait would pass the deadline', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const name = `deadline${++upstreams}`;
    const limits = { rpm: 1, windowMs: 1000 };
    const [a, b] = await Promise.all([replica(name, limits), replica(name, limits)]);
    await a.chat({ messages: say('first') });
    await expectRefusedAtOnceOverDeadline(
      () => b.chat({ messages: say('second') }, { deadlineMs: 600 }),
      name,
      600,
    );
    expect(sim.requests.map((r) => textOf(r.body))).toEqual(['first']);
    const snapshot = await reader.read();
    const reason = { 'llm.upstream': name, 'llm.limiter.reason': 'deadline' };
    expect(snapshot.sum(M.limiterRejections, reason)).toBe(1);
    await expectCountedInRedis(name, warn);
    // Only A's request holds the shared window: the rejected call reserved nothing.
    expect(await probe.hget(`llm:ratelimit:{${name}}:used`, 'r')).toBe('1');
  });

  it('keeps using Redis when entries of a requests-only budget expire (no fallback)', async () => {
    // Regression: pruning expired entries once sent HINCRBY -0, which Redis refuses, and every
    // replica fell back to its local share about once per window.
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const name = `expiring${++upstreams}`;
    const llm = await replica(name, { rpm: 50, windowMs: 200 });
    await llm.chat({ messages: say('first') });
    await new Promise((resolve) => setTimeout(resolve, 260)); // the first entry expires
    await llm.chat({ messages: say('second') });
    await llm.chat({ messages: say('third') });
    const fallbacks = warn.mock.calls.map((c) => String(c[0])).filter((l) => /redis/i.test(l));
    expect(fallbacks).toEqual([]);
  });

  it("shares the provider's correction: a reset seen by one replica holds the other", async () => {
    const name = `corrected${++upstreams}`;
    const limits = { rpm: 100, windowMs: 1000 };
    const [a, b] = await Promise.all([replica(name, limits), replica(name, limits)]);
    const none = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '300ms' };
    sim.script([{ type: 'ok', headers: none }]);
    await a.chat({ messages: say('a') });
    const started = Date.now();
    await b.chat({ messages: say('b') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(270);
    const [first, second] = sim.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(280);
  });

  it("holds every replica for a 429's Retry-After without a remaining/reset pair (Azure), with the adaptive rate on", async () => {
    const name = `held${++upstreams}`;
    // The adaptive rate (on by default) lowers the refused replica's limit: the hold must still
    // fill the shared window to what the other replica counts against.
    const limits = { rpm: 6000 };
    // A hint past the window's guard (a hold, not a window's edge), and one the call waits for.
    const retry = { ...FAST_POLICIES.retry, maxServerHintMs: 5000 };
    const [a, b] = await Promise.all([
      replica(name, limits, { url: redis.url }, { retry }),
      replica(name, limits, { url: redis.url }, { retry }),
    ]);
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '700' } }]);
    const first = a.chat({ messages: say('a') });
    await eventually(() => sim.requests.length === 1);
    await sleep(50);
    await b.chat({ messages: say('b') });
    await first;
    const [refused, ...after] = sim.requests;
    expect(after).toHaveLength(2);
    for (const request of after) expect(request.at - refused!.at).toBeGreaterThanOrEqual(680);
  });

  it('learns the replica count through Redis, falls back to that share while Redis is down, says so once, and returns when it is back', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const name = `failover${++upstreams}`;
    // No limits.replicas: the two replicas count each other through their heartbeats.
    const limits = { rpm: 8, windowMs: 3000, intervalMs: 0 };
    const llm = await replica(name, limits);
    const other = await replica(name, limits);
    const learned = () => log.mock.calls.filter(([m]) => String(m).startsWith('2 replica(s)'));
    await eventually(() => Promise.resolve(learned().length === 2), { timeoutMs: 3000 });
    const fallbacksBefore = (await reader.read()).sum(M.limiterFallbacks);
    await llm.chat({ messages: say('via redis') });
    expect((await reader.read()).gauge(M.limiterFallbackActive, {})).toBe(0);

    await redis.stop();
    // 8 / the 2 replicas last counted = 4 here, minus the call this replica made through Redis.
    expect(await burst(llm, 6)).toBe(3);
    expect(await burst(llm, 2)).toBe(0);
    // The other replica falls back too, on its own share.
    expect(await burst(other, 1)).toBe(1);
    const fellBack = warn.mock.calls.filter(([m]) => String(m).includes('unreachable'));
    expect(fellBack).toHaveLength(2);
    expect(String(fellBack[0]![0])).toContain("this replica's share");
    expect(String(fellBack[0]![0])).not.toContain('redis://');
    let snapshot = await reader.read();
    expect(snapshot.sum(M.limiterFallbacks) - fallbacksBefore).toBe(2);
    expect(snapshot.gauge(M.limiterFallbackActive, {})).toBe(1);

    await redis.restart();
    await eventually(async () => (await reader.read()).gauge(M.limiterFallbackActive, {}) === 0, {
      timeoutMs: 4000,
    });
    await eventually(
      () =>
        Promise.resolve(
          log.mock.calls.filter(([m]) => /answers again/.test(String(m))).length === 2,
        ),
      { timeoutMs: 4000 },
    );
    // What was admitted locally went to the fresh Redis, so the shared window knows it...
    await probeReady();
    expect(await probe.hget(`llm:ratelimit:{${name}}:used`, 'r')).toBe('4');
    // ...and the whole budget is shared again: 8 - 4, as much as this replica's share.
    expect(await burst(llm, 8)).toBe(4);
    snapshot = await reader.read();
    expect(snapshot.sum(M.limiterFallbacks) - fallbacksBefore).toBe(2);
  });

  it('keeps the replicas together under the limit across the switch: a replica below its share does not add it on top of one above it', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const name = `switch${++upstreams}`;
    // A share of 5 each; through Redis, A takes 8 of the 10 and B 1.
    const limits = { rpm: 10, windowMs: 2000, intervalMs: 0 };
    const [a, b] = await Promise.all([replica(name, limits), replica(name, limits)]);
    // Each has counted the other through its heartbeat.
    const learned = () => log.mock.calls.filter(([m]) => String(m).startsWith('2 replica(s)'));
    await eventually(() => Promise.resolve(learned().length === 2), { timeoutMs: 3000 });
    expect(await burst(a, 8, 1000)).toBe(8);
    await b.chat({ messages: say('b via redis') });
    const before = sim.requests.length;

    await redis.stop();
    // Alone on its share B would send 4 more (5 − its 1), 13 in the window. Redis last said the
    // window held 9: the room left is 1, split between 2 replicas, so B sends none before the
    // window has passed, and A, above its share, none either.
    expect(await burst(b, 4, 300)).toBe(0);
    expect(await burst(a, 2, 300)).toBe(0);
    expect(sim.requests.length - before).toBe(0);
    await redis.restart();
  });

  it('hands an emptied Redis the pacing interval and schedule of what a replica admitted on its own, so the next interval does not carry it twice', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await probeReady();
    const prefix = `recover${++upstreams}:`;
    const connection = new LimiterRedisConnection({
      url: redis.url,
      keyPrefix: prefix,
      timeoutMs: 200,
    });
    await connection.connect();
    const fallbacks: number[] = [];
    const replicaA = new FailoverBudgetStore(connection, prefix, 200, () => fallbacks.push(1));
    const replicaB = new RedisBudgetStore(probe, prefix);
    // 5000 tokens per 5075 ms interval (60000 per minute): one call of 4000 fits, two do not.
    const take = (id: string): BudgetTake => ({
      id,
      need: { requests: 1, tokens: 4000 },
      limits: { tpm: 60_000 },
      windowMs: 60_000,
      intervalMs: 5000,
      replicas: 1,
    });
    try {
      await redis.stop();
      expect(await replicaA.take('k', take('a-local'))).toEqual({ admitted: true });
      expect(fallbacks).toHaveLength(1);

      await redis.restart(); // empty
      await eventually(() => Promise.resolve(!replicaA.fallbackActive), { timeoutMs: 4000 });
      await probeReady();
      const keys = (part: string) => `${prefix}{k}:${part}`;
      expect(await probe.zscore(keys('log'), 'a-local')).not.toBeNull();
      expect(await probe.zscore(keys('interval'), 'a-local')).not.toBeNull();
      expect(await probe.hget(keys('used'), 'it')).toBe('4000');

      // Before the fix only the minute window knew A's call: B was admitted at once, and the
      // upstream's interval saw 8000 of its 5000 tokens.
      const refused = await replicaB.take('k', take('b-redis'));
      expect(refused).toMatchObject({ admitted: false, dimension: 'tokens' });
      expect(refused.admitted === false && refused.waitMs).toBeGreaterThan(1000);
      expect(await replicaA.take('k', take('a-redis'))).toMatchObject({ admitted: false });
    } finally {
      replicaA.close();
      await connection.close();
    }
  });

  it('never lets a hung Redis hold a call: past timeoutMs it falls back, then returns', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const { llm, calls } = await recordedReplica(
      `hung${++upstreams}`,
      // Paced 10 ms apart: the calls below never wait for budget, only (not) for Redis.
      { rpm: 6000 },
      { url: redis.url, timeoutMs: 100 },
    );
    await llm.chat({ messages: say('warm') });
    redis.pause();
    try {
      // Within a deadline far shorter than a hung Redis would take (forever): it fell back.
      await llm.chat({ messages: say('while hung') }, { deadlineMs: 1000 });
      const hungWait = calls.at(-1)!.attempts[0]!.limiterWaitMs;
      expect(hungWait).toBeGreaterThanOrEqual(90);
      // ioredis's commandTimeout or our own bound, whichever fires first: both are 100 ms.
      const fellBack = warn.mock.calls.filter(([m]) => String(m).includes('unreachable'));
      expect(fellBack).toHaveLength(1);
      expect(String(fellBack[0]![0])).toMatch(/timed out|no answer within 100 ms/i);
      await llm.chat({ messages: say('still hung') });
      // Already on the local share: no second wait for Redis, so less than the first one waited.
      expect(calls.at(-1)!.attempts[0]!.limiterWaitMs).toBeLessThan(hungWait);
    } finally {
      redis.resume();
    }
    await eventually(async () => (await reader.read()).gauge(M.limiterFallbackActive, {}) === 0, {
      timeoutMs: 3000,
    });
  });

  it('boots while Redis is down, on its share, and uses Redis once it starts', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const late = await RedisServer.start();
    try {
      await late.stop();
      const llm = await replica(
        `late${++upstreams}`,
        { rpm: 4, windowMs: 2000, intervalMs: 0, replicas: 2 },
        {
          url: late.url,
        },
      );
      expect(await burst(llm, 3)).toBe(2);
      expect(warn.mock.calls.filter(([m]) => String(m).includes('unreachable'))).toHaveLength(1);
      await late.restart();
      await eventually(async () => (await reader.read()).gauge(M.limiterFallbackActive, {}) === 0, {
        timeoutMs: 4000,
      });
      // 4 shared, 2 already spent here and copied to Redis.
      expect(await burst(llm, 3)).toBe(2);
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await late.close();
    }
  });

  it.each([
    ['a wrong password', 'redis://:wrongpw-4711@127.0.0.1', /WRONGPASS/],
    ['no password', 'redis://127.0.0.1', /NOAUTH/],
  ])(
    'says a Redis that refuses the credentials (%s) refused them, never the password, and counts the fallback as any other',
    async (_case, base, reply) => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      const locked = await RedisServer.start({ requirePass: 'right-pw-0815' });
      try {
        const fallbacksBefore = (await reader.read()).sum(M.limiterFallbacks);
        const llm = await replica(
          `locked${++upstreams}`,
          { rpm: 4, windowMs: 2000, intervalMs: 0, replicas: 2 },
          { url: `${base}:${locked.port}` },
        );
        // On its share (4 / 2 replicas), as with a Redis that is down.
        expect(await burst(llm, 3)).toBe(2);
        const lines = warn.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('Redis'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(
          `Redis at 127.0.0.1:${locked.port} refused our credentials (check the user and password in the Redis URL)`,
        );
        expect(lines[0]).toMatch(reply);
        expect(lines[0]).toContain("rate-limit budgets fall back to this replica's share");
        expect(lines[0]).not.toContain('unreachable');
        expect(lines[0]).not.toContain('wrongpw');
        const snapshot = await reader.read();
        expect(snapshot.sum(M.limiterFallbacks) - fallbacksBefore).toBe(1);
        expect(snapshot.gauge(M.limiterFallbackActive, {})).toBe(1);
      } finally {
        await Promise.all(apps.splice(0).map((app) => app.close()));
        await locked.close();
      }
    },
  );

  it("counts in Redis exactly as in memory: tokens, real usage, the provider's view", async () => {
    await probeReady();
    const base = { limits: { rpm: 10, tpm: 1000 }, windowMs: 1000, intervalMs: 0, replicas: 1 };
    const take = (id: string, tokens: number): BudgetTake => ({
      ...base,
      id,
      need: { requests: 1, tokens },
    });
    const script = async (store: BudgetStore): Promise<TakeResult[]> => [
      await store.take('k', take('a', 600)),
      await store.take('k', take('b', 500)),
      await store
        .adjust('k', 'a', { requests: 1, tokens: 100 })
        .then(() => store.take('k', take('b', 500))),
      await store.peek('k', take('p', 900)),
      await store
        .correct('k', { dimension: 'requests', remaining: 0, resetMs: 300, limit: 10 }, 1000, 1)
        .then(() => store.take('k', take('c', 1))),
    ];
    const [inRedis, inMemory] = await Promise.all([
      script(new RedisBudgetStore(probe, `parity${++upstreams}:`)),
      script(new MemoryBudgetStore()),
    ]);
    const rounded = (results: TakeResult[]) =>
      results.map((r) =>
        r.admitted ? r : { ...r, waitMs: Math.round((r.waitMs ?? -1) / 50) * 50, drainMs: 0 },
      );
    expect(rounded(inRedis)).toEqual(rounded(inMemory));
    expect(rounded(inRedis)).toEqual([
      { admitted: true },
      { admitted: false, waitMs: 1000, dimension: 'tokens', drainMs: 0 },
      { admitted: true },
      { admitted: false, waitMs: 1000, dimension: 'tokens', drainMs: 0 },
      { admitted: false, waitMs: 300, dimension: 'requests', drainMs: 0 },
    ]);
  });

  it('gives a fallback the shared use without its own provider corrections, which last only to the reset', async () => {
    await probeReady();
    const store = new RedisBudgetStore(probe, `held${++upstreams}:`);
    const take = (id: string): BudgetTake => ({
      limits: { rpm: 10 },
      windowMs: 60_000,
      intervalMs: 0,
      replicas: 1,
      id,
      need: { requests: 1, tokens: 0 },
    });
    expect(await store.take('k', take('a'))).toEqual({ admitted: true });
    // The provider says no room until its reset in 300 ms: the window counts 9 more until then.
    await store.correct(
      'k',
      { dimension: 'requests', remaining: 0, resetMs: 300, limit: 10 },
      60_000,
    );
    expect((await store.take('k', take('b'))).admitted).toBe(false);
    // What a fallback would hold for a whole minute: the one admission, not the 300 ms hold.
    expect(store.sharedUsage('k')).toMatchObject({ requests: 1, tokens: 0 });
  });

  it('closes its Redis connection when the module is destroyed', async () => {
    await probeReady();
    const clients = async () => {
      const list = (await probe.call('CLIENT', 'LIST')) as string;
      return list.trim().split('\n').length;
    };
    const before = await clients();
    await replica(`close${++upstreams}`, { rpm: 10 });
    expect(await clients()).toBe(before + 1);
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await eventually(async () => (await clients()) === before);
  });
});
