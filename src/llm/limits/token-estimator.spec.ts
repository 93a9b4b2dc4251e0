import { estimateTokens } from './token-estimator';

describe('estimateTokens', () => {
  it("counts an OpenAI model's prompt with its tokenizer, plus max_tokens", () => {
    const request = { messages: [{ role: 'user', content: 'Hello' }], max_tokens: 100 };
    // "user" + "Hello" are 2 tokens in o200k_base; 3 per message and 3 to prime the reply.
    expect(estimateTokens(request, 'gpt-4o', 256)).toBe(108);
  });

  it('uses characters / 4 for other models, and completionTokens without max_tokens', () => {
    const request = { messages: [{ role: 'user', content: 'x'.repeat(40) }] };
    expect(estimateTokens(request, 'llama3.1:8b', 256)).toBe(Math.ceil(44 / 4) + 6 + 256);
  });

  it('prefers max_completion_tokens and counts every choice of n', () => {
    const request = {
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 999,
      max_completion_tokens: 50,
      n: 2,
    };
    expect(estimateTokens(request, 'mistral', 0)).toBe(Math.ceil(6 / 4) + 6 + 100);
  });

  it('counts images, tool calls and tools too', () => {
    const plain = { messages: [{ role: 'user', content: 'Hi' }] };
    const rich = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'image_url', image_url: { url: 'data:...' } },
          ],
        },
        { role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{}' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    };
    expect(estimateTokens(rich, 'gpt-4o', 0)).toBeGreaterThan(
      estimateTokens(plain, 'gpt-4o', 0) + 85,
    );
  });
});
