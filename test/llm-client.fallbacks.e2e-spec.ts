import { type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import {
  type LlmLastResort,
  type LlmModuleOptions,
  type LlmUpstreamOptions,
} from '../src/llm/llm-module.options';
import { buildCallEvent } from '../src/llm/observability/events/llm-call.event';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { failureOf, FAST_POLICIES, USER } from './support/llm-test-app';

const models = (sim: UpstreamSimulator) =>
  sim.requests.map((r) => (r.body as { model?: string }).model);

/** Primary (gpt-4o → gpt-4o-mini on the same upstream → gpt-4o on the secondary upstream). */
async function boot(
  primary: UpstreamSimulator,
  secondary: UpstreamSimulator,
  extra: Partial<LlmModuleOptions> = {},
  primaryOverrides: Partial<LlmUpstreamOptions> = {},
) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      LlmModule.forRoot({
        upstreams: [
          {
            name: 'primary',
            baseUrl: primary.baseUrl,
            defaultModel: 'gpt-4o',
            ...FAST_POLICIES,
            breaker: { consecutiveFailures: 50, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
            fallbacks: { 'gpt-4o': [{ model: 'gpt-4o-mini' }, { upstream: 'secondary' }] },
            ...primaryOverrides,
          },
          {
            name: 'secondary',
            baseUrl: secondary.baseUrl,
            defaultModel: 'gpt-4o',
            ...FAST_POLICIES,
          },
        ],
        ...extra,
      }),
    ],
  }).compile();
  const app: INestApplicationContext = await moduleRef.init();
  const { hops, calls: ended } = recordCalls(app);
  return { app, llm: app.get(LlmClient), hops, ended };
}

describe('fallback chain', () => {
  let primary: UpstreamSimulator;
  let secondary: UpstreamSimulator;
  let t: Awaited<ReturnType<typeof boot>>;

  beforeAll(async () => {
    primary = await UpstreamSimulator.start();
    secondary = await UpstreamSimulator.start();
  });
  beforeEach(async () => {
    primary.reset();
    secondary.reset();
    t = await boot(primary, secondary);
  });
  afterEach(async () => {
    await t.app.close();
  });
  afterAll(async () => {
    await primary.close();
    await secondary.close();
  });

  it('moves to the next model once the retries of the first are spent', async () => {
    primary.script([
      { type: 'error', status: 503, repeat: 4 },
      { type: 'ok', content: 'from mini' },
    ]);
    const { completion, metadata } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('from mini');
    expect(models(primary)).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
    expect(metadata).toMatchObject({
      upstream: 'primary',
      model: 'gpt-4o-mini',
      requestedModel: 'gpt-4o',
      attempts: 5,
      degraded: false,
      fallbacks: [
        {
          fromModel: 'gpt-4o',
          toModel: 'gpt-4o-mini',
          toUpstream: 'primary',
          reason: 'overloaded',
        },
      ],
    });
  });

  it('follows the chain in order, to another upstream', async () => {
    primary.script([{ type: 'error', status: 500, repeat: 8 }]);
    secondary.script([{ type: 'ok', content: 'from secondary' }]);
    const { completion, metadata } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('from secondary');
    expect(metadata.fallbacks.map((h) => `${h.toUpstream}/${h.toModel}`)).toEqual([
      'primary/gpt-4o-mini',
      'secondary/gpt-4o',
    ]);
    expect(metadata.upstream).toBe('secondary');
    expect(t.hops).toHaveLength(2);
    // The business event says which model answered and why the call moved.
    const event = buildCallEvent(t.ended[0]!, { serviceName: 'test', dataset: 'llm.calls' });
    expect(event).toMatchObject({
      'gen_ai.request.model': 'gpt-4o',
      'llm.upstream': 'secondary',
      'llm.requested_model': 'gpt-4o',
      'llm.fallbacks': 2,
      'llm.fallback.reason': ['server_error', 'server_error'],
      'llm.degraded': false,
      'event.outcome': 'success',
    });
  });

  it('moves on when the bulkhead of the upstream is full, as bulkhead_full', async () => {
    const full = await boot(
      primary,
      secondary,
      {},
      { bulkhead: { maxConcurrent: 1, maxQueue: 0 } },
    );
    try {
      // The primary's one slot is held by a slow answer while the second call arrives.
      primary.script([{ type: 'ok', content: 'slow', latencyMs: 300 }]);
      secondary.script([{ type: 'ok', content: 'from secondary' }]);
      const holding = full.llm.chat({ messages: USER });
      await eventually(() => expect(primary.requests).toHaveLength(1));
      const { completion, metadata } = await full.llm.chat({ messages: USER });
      expect(completion.choices[0]?.message.content).toBe('from secondary');
      expect(metadata.upstream).toBe('secondary');
      expect(metadata.fallbacks.map((h) => h.reason)).toEqual(
        metadata.fallbacks.map(() => 'bulkhead_full'),
      );
      expect(metadata.fallbacks.at(-1)?.toUpstream).toBe('secondary');
      // The call in the slot was not disturbed, and nothing more reached the full upstream.
      await expect(holding).resolves.toBeDefined();
      expect(primary.requests).toHaveLength(1);
    } finally {
      await full.app.close();
    }
  });

  it('moves on at once when the breaker of the model is open', async () => {
    const strict = await boot(
      primary,
      secondary,
      {},
      { breaker: { consecutiveFailures: 1, maxBreakMs: 10_000, maxProbeWaitMs: 0 } },
    );
    try {
      primary.script([{ type: 'error', status: 500 }, { type: 'ok' }]);
      await strict.llm.chat({ messages: USER }); // opens gpt-4o's breaker, answered by mini
      primary.reset();
      primary.script([{ type: 'ok', content: 'mini again' }]);
      const { metadata } = await strict.llm.chat({ messages: USER });
      expect(models(primary)).toEqual(['gpt-4o-mini']);
      expect(metadata.fallbacks[0]).toMatchObject({
        reason: 'circuit_open',
        toModel: 'gpt-4o-mini',
      });
    } finally {
      await strict.app.close();
    }
  });

  it('moves on when the rate-limit wait would pass the deadline', async () => {
    primary.script([
      { type: 'error', status: 429, headers: { 'retry-after': '30' } },
      { type: 'ok', content: 'mini now' },
    ]);
    const hinted = await boot(
      primary,
      secondary,
      {},
      { retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 60_000 } },
    );
    try {
      const { metadata } = await hinted.llm.chat({ messages: USER }, { deadlineMs: 1000 });
      expect(metadata.fallbacks[0]).toMatchObject({
        reason: 'deadline_exceeded',
        toModel: 'gpt-4o-mini',
      });
      // It moved on without sleeping any part of the 30 s hint: no attempt waited before it.
      const call = hinted.ended.at(-1)!;
      expect(call.attempts.map((a) => [a.delayBeforeMs, a.delaySource])).toEqual([
        [0, undefined],
        [0, undefined],
      ]);
    } finally {
      await hinted.app.close();
    }
  });

  it('moves on when the local rate-limit budget has no room before the deadline', async () => {
    const limited = await boot(primary, secondary, {}, { limits: { rpm: 1, windowMs: 10_000 } });
    try {
      await limited.llm.chat({ messages: USER }); // spends the primary's one request
      secondary.script([{ type: 'ok', content: 'unlimited upstream' }]);
      const { completion, metadata } = await limited.llm.chat(
        { messages: USER },
        { deadlineMs: 500 },
      );
      // The one attempt went to the secondary, which has no budget: nothing waited for one.
      expect(limited.ended.at(-1)!.attempts.map((a) => a.limiterWaitMs)).toEqual([0]);
      expect(completion.choices[0]?.message.content).toBe('unlimited upstream');
      // Both models of the primary share its budget: the chain skips to the other upstream.
      expect(metadata.fallbacks.map((h) => [h.toUpstream, h.reason])).toEqual([
        ['primary', 'rate_limited'],
        ['secondary', 'rate_limited'],
      ]);
      expect(models(primary)).toEqual(['gpt-4o']);
    } finally {
      await limited.app.close();
    }
  });

  it('moves on at once for context_length_exceeded: a larger window fixes it', async () => {
    primary.script([
      { type: 'error', status: 400, code: 'context_length_exceeded' },
      { type: 'ok' },
    ]);
    const { metadata } = await t.llm.chat({ messages: USER });
    expect(models(primary)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(metadata.fallbacks[0]?.reason).toBe('context_length_exceeded');
  });

  it('does not move for a bad request: every model would refuse it', async () => {
    primary.script([{ type: 'error', status: 400 }, { type: 'ok' }]);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error.kind).toBe('bad_request');
    expect(models(primary)).toEqual(['gpt-4o']);
    expect(t.hops).toHaveLength(0);
  });

  it('skips the same upstream for an auth failure and goes to the other upstream', async () => {
    primary.script([{ type: 'error', status: 401 }]);
    secondary.script([{ type: 'ok', content: 'other key works' }]);
    const { metadata } = await t.llm.chat({ messages: USER });
    expect(models(primary)).toEqual(['gpt-4o']);
    expect(metadata).toMatchObject({
      upstream: 'secondary',
      fallbacks: [{ reason: 'auth', toUpstream: 'secondary' }],
    });
  });

  it('streams fall back too, before their first content chunk', async () => {
    primary.script([
      { type: 'error', status: 503, repeat: 4 },
      { type: 'stream', chunks: ['mi', 'ni'] },
    ]);
    const stream = t.llm.chatStream({ messages: USER });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('mini');
    expect(stream.metadata).toMatchObject({
      model: 'gpt-4o-mini',
      fallbacks: [{ reason: 'overloaded' }],
    });
  });

  it("skips a target the call already tried: a '*' chain that names the model asked for", async () => {
    await t.app.close();
    t = await boot(
      primary,
      secondary,
      {},
      {
        retry: { maxRetries: 0 },
        fallbacks: { '*': [{ model: 'gpt-4o-mini' }, { model: 'o3-mini' }] },
      },
    );
    primary.script([{ type: 'error', status: 503 }]);
    const { metadata } = await t.llm.chat({ model: 'gpt-4o-mini', messages: USER });
    // gpt-4o-mini failed once; the chain's own gpt-4o-mini is skipped, o3-mini answers.
    expect(models(primary)).toEqual(['gpt-4o-mini', 'o3-mini']);
    expect(metadata.model).toBe('o3-mini');
    expect(t.hops.map((h) => [h.fromModel, h.toModel])).toEqual([['gpt-4o-mini', 'o3-mini']]);
  });

  it('fails with the last error when the whole chain is unavailable', async () => {
    primary.script([{ type: 'error', status: 503, repeat: 8 }]);
    secondary.script([{ type: 'error', status: 502, repeat: 4 }]);
    const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
    expect(error).toMatchObject({ kind: 'server_error', upstream: 'secondary', attempts: 12 });
    expect(t.ended[0]?.error?.kind).toBe('server_error');
  });
});

describe('last resort', () => {
  it('answers with the application’s degraded reply when the whole chain is down, and says so', async () => {
    const primary = await UpstreamSimulator.start();
    const secondary = await UpstreamSimulator.start();
    const lastResort: LlmLastResort = ({ error }) => ({
      id: 'canned',
      object: 'chat.completion',
      created: 0,
      model: 'canned',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: `Busy (${error.kind}), try later.`,
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
    });
    const t = await boot(primary, secondary, { lastResort });
    try {
      primary.script([{ type: 'error', status: 503, repeat: 8 }]);
      secondary.script([{ type: 'error', status: 503, repeat: 4 }]);
      const { completion, metadata } = await t.llm.chat({ messages: USER });
      expect(completion.choices[0]?.message.content).toBe('Busy (overloaded), try later.');
      expect(metadata.degraded).toBe(true);
      // No provider answered: no provider request id or headers (the last attempt's was a 503).
      expect(metadata.upstreamRequestId).toBeUndefined();
      expect(metadata.upstreamHeaders).toBeUndefined();
      expect(metadata.fallbacks.at(-1)).toMatchObject({
        toUpstream: 'last-resort',
        reason: 'overloaded',
      });
      expect(t.ended[0]).toMatchObject({ degraded: true, error: undefined });
      // It never answers for the caller's own mistakes.
      primary.script([{ type: 'error', status: 400 }]);
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(error.kind).toBe('bad_request');
    } finally {
      await t.app.close();
      await primary.close();
      await secondary.close();
    }
  });

  it('a last resort that throws lets the original error through', async () => {
    const sim = await UpstreamSimulator.start();
    const t = await boot(sim, sim, {
      lastResort: () => {
        throw new Error('no cache either');
      },
    });
    try {
      sim.script([{ type: 'error', status: 503, repeat: 12 }]);
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(error.kind).toBe('overloaded');
    } finally {
      await t.app.close();
      await sim.close();
    }
  });
});

describe('fallback options', () => {
  it('refuse a chain that names an unknown upstream, naming the field', async () => {
    const build = Test.createTestingModule({
      imports: [
        LlmModule.forRoot({
          upstreams: [
            {
              name: 'a',
              baseUrl: 'http://127.0.0.1:1/v1',
              defaultModel: 'm',
              fallbacks: { m: [{ upstream: 'nope' }] },
            },
          ],
        }),
      ],
    }).compile();
    await expect(build).rejects.toThrow(
      /fallbacks\['m'\]\[0\]\.upstream 'nope' is not the name of any upstream/,
    );
  });
});
