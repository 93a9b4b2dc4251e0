import { type LlmUpstreamOptions } from '../llm-module.options';
import { LlmOptionsError } from './llm-options.error';
import { resolveLlmOptions } from './llm-options.resolver';

const openai = { name: 'openai', baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4o' };
const local = { name: 'vllm', baseUrl: 'http://127.0.0.1:8000/v1', defaultModel: 'llama' };

function requestsUsage(upstream: LlmUpstreamOptions): boolean {
  return resolveLlmOptions({ upstreams: [upstream] }).upstreams.get(upstream.name)!
    .requestsStreamUsage;
}

describe('upstream options: streamUsage', () => {
  it("'auto' (the default) asks OpenAI's own API only; 'always' and 'never' say so for any", () => {
    expect(requestsUsage(openai)).toBe(true);
    expect(requestsUsage({ ...openai, baseUrl: 'https://API.OpenAI.com:443/v1' })).toBe(true);
    expect(requestsUsage(local)).toBe(false);
    expect(requestsUsage({ ...local, baseUrl: 'https://api.openai.com.example.org/v1' })).toBe(
      false,
    );
    expect(requestsUsage({ ...local, streamUsage: 'always' })).toBe(true);
    expect(requestsUsage({ ...openai, streamUsage: 'never' })).toBe(false);
  });

  it('refuses any other value, naming the field', () => {
    try {
      resolveLlmOptions({
        upstreams: [
          { ...openai, streamUsage: 'sometimes' as never },
          { ...local, streamUsage: 1 as never },
        ],
      });
      throw new Error('expected LlmOptionsError');
    } catch (error) {
      expect(error).toBeInstanceOf(LlmOptionsError);
      expect((error as LlmOptionsError).problems).toEqual([
        "upstreams[0].streamUsage must be one of 'auto', 'always', 'never', got 'sometimes'",
        "upstreams[1].streamUsage must be a string (e.g. 'auto'), got 1",
      ]);
    }
  });
});
