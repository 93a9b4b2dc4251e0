import type { CallRecord } from '../call/call-record';
import type { ResolvedUpstream } from '../llm-module.options';
import { CallMetricAttributes, MAX_LABEL_PAIRS, MAX_LABEL_VALUES } from './llm-metric.attributes';
import { ATTR_GEN_AI_REQUEST_MODEL, ATTR_LLM_FEATURE } from './llm.semconv';

const upstream = { name: 'openai', baseUrl: 'http://127.0.0.1:1/v1' } as ResolvedUpstream;
const call = (model: string, featureName: string, on = upstream) =>
  ({ model, upstream: on, context: { featureName } }) as unknown as CallRecord;

describe('CallMetricAttributes', () => {
  it('gives every (upstream, model, feature) the same labels object', () => {
    const attributes = new CallMetricAttributes();
    expect(attributes.of(call('m', 'f'))).toBe(attributes.of(call('m', 'f')));
    expect(attributes.of(call('m', 'f')).common).toMatchObject({
      [ATTR_GEN_AI_REQUEST_MODEL]: 'm',
      [ATTR_LLM_FEATURE]: 'f',
    });
  });

  it(`keeps at most ${MAX_LABEL_PAIRS} model and feature pairs per upstream, however many callers send`, () => {
    const attributes = new CallMetricAttributes();
    const distinct = new Set<unknown>();
    // 64 features × 32 models: each label within its own bound, their product far past it.
    for (let m = 0; m < 32; m++) {
      for (let f = 0; f < MAX_LABEL_VALUES; f++)
        distinct.add(attributes.of(call(`m${m}`, `f${f}`)));
    }
    expect(distinct.size).toBe(MAX_LABEL_PAIRS + 1);
    const pairs = [...distinct].map((labels) => {
      const { common } = labels as ReturnType<CallMetricAttributes['of']>;
      return `${String(common[ATTR_GEN_AI_REQUEST_MODEL])}/${String(common[ATTR_LLM_FEATURE])}`;
    });
    expect(pairs).toContain('other/other');
    // Pairs seen before the bound keep their labels.
    expect(attributes.of(call('m0', 'f5')).common[ATTR_LLM_FEATURE]).toBe('f5');
    expect(attributes.of(call('m31', 'f63')).common[ATTR_GEN_AI_REQUEST_MODEL]).toBe('other');
    // Another upstream has its own bound.
    const other = { ...upstream, name: 'azure' };
    expect(attributes.of(call('m31', 'f63', other)).common[ATTR_LLM_FEATURE]).toBe('f63');
  });

  it('keeps the configured models as themselves, whatever models and features clients send first', () => {
    const configured = {
      ...upstream,
      defaultModel: 'gpt-4o-mini',
      fallbacks: { 'gpt-4o': [{ upstream: 'openai', model: 'gpt-4.1-mini' }] },
    } as unknown as ResolvedUpstream;
    const attributes = new CallMetricAttributes([configured]);
    // Clients' model names fill every label value and every pair first.
    for (let m = 0; m < 2 * MAX_LABEL_VALUES; m++)
      attributes.of(call(`client-${m}`, `f${m}`, configured));
    expect(
      attributes.of(call('client-999', 'f', configured)).common[ATTR_GEN_AI_REQUEST_MODEL],
    ).toBe('other');
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini']) {
      const { common } = attributes.of(call(model, 'support-chat', configured));
      expect([model, common[ATTR_GEN_AI_REQUEST_MODEL]]).toEqual([model, model]);
      expect(common[ATTR_LLM_FEATURE]).toBe('other');
    }
  });
});
