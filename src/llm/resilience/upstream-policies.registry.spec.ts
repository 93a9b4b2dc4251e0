import { resolveLlmOptions } from '../options/llm-options.resolver';
import { LlmError } from './llm.errors';
import { MAX_BREAKERS_PER_UPSTREAM, UpstreamPoliciesRegistry } from './upstream-policies.registry';

const options = resolveLlmOptions({
  upstreams: [
    {
      name: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      defaultModel: 'gpt-4o-mini',
      breaker: { consecutiveFailures: 1, minBreakMs: 60_000, maxBreakMs: 60_000 },
    },
  ],
});
const upstream = options.upstreams.get('openai')!;

async function fail(registry: UpstreamPoliciesRegistry, model: string): Promise<void> {
  await registry
    .breaker(upstream, model)
    .policy.execute(() => Promise.reject(new LlmError('server_error', 'boom')))
    .catch(() => undefined);
}

describe('UpstreamPoliciesRegistry', () => {
  it('has the default model breaker from startup, closed', () => {
    const registry = new UpstreamPoliciesRegistry(options);
    expect(registry.snapshots()).toEqual([
      expect.objectContaining({ upstream: 'openai', model: 'gpt-4o-mini', state: 'closed' }),
    ]);
  });

  it('returns the same breaker for the same upstream and model', () => {
    const registry = new UpstreamPoliciesRegistry(options);
    expect(registry.breaker(upstream, 'gpt-4o')).toBe(registry.breaker(upstream, 'gpt-4o'));
  });

  it('bounds the breakers of request-chosen model names, keeping open ones and the default', async () => {
    const registry = new UpstreamPoliciesRegistry(options);
    await fail(registry, 'broken-model');
    for (let i = 0; i < MAX_BREAKERS_PER_UPSTREAM * 2; i++)
      registry.breaker(upstream, `model-${i}`);
    const snapshots = registry.snapshots();
    expect(snapshots.length).toBeLessThanOrEqual(MAX_BREAKERS_PER_UPSTREAM);
    expect(snapshots.map((s) => s.model)).toEqual(
      expect.arrayContaining([
        'gpt-4o-mini',
        'broken-model',
        `model-${MAX_BREAKERS_PER_UPSTREAM * 2 - 1}`,
      ]),
    );
    expect(snapshots.find((s) => s.model === 'broken-model')?.state).toBe('open');
  });
});
