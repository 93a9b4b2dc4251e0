import type { ChatCompletionChunk } from '../call/chat.types';
import { hasContent } from './stream-attempt';

const chunk = (choices: unknown[], usage?: unknown): ChatCompletionChunk =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices,
    usage,
  }) as ChatCompletionChunk;

describe('hasContent', () => {
  it('is false for a role-only first delta, an empty delta and no choices', () => {
    expect(
      hasContent(chunk([{ index: 0, delta: { role: 'assistant' }, finish_reason: null }])),
    ).toBe(false);
    expect(hasContent(chunk([{ index: 0, delta: { content: '' }, finish_reason: null }]))).toBe(
      false,
    );
    expect(hasContent(chunk([{ index: 0, delta: { refusal: null, tool_calls: undefined } }]))).toBe(
      false,
    );
    expect(hasContent(chunk([{ index: 0 }]))).toBe(false);
    expect(hasContent(chunk([{ index: 0, delta: { tool_calls: [], reasoning: '' } }]))).toBe(false);
    // Audio output opens with its id and an empty transcript.
    expect(
      hasContent(
        chunk([{ index: 0, delta: { role: 'assistant', audio: { id: 'a', transcript: '' } } }]),
      ),
    ).toBe(false);
    expect(hasContent(chunk([]))).toBe(false);
  });

  it('is true for text, a tool call, a function call, a refusal, reasoning, audio, a provider field, a finish reason or usage', () => {
    expect(hasContent(chunk([{ index: 0, delta: { content: 'Hi' } }]))).toBe(true);
    for (const field of ['tool_calls', 'function_call', 'refusal', 'reasoning_content']) {
      expect(
        hasContent(chunk([{ index: 0, delta: { [field]: field === 'refusal' ? 'No.' : [{}] } }])),
      ).toBe(true);
    }
    expect(hasContent(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]))).toBe(true);
    // Reasoning as OpenRouter, vLLM and Ollama send it, audio output, a field a provider adds.
    expect(hasContent(chunk([{ index: 0, delta: { reasoning: 'Let me think' } }]))).toBe(true);
    expect(hasContent(chunk([{ index: 0, delta: { audio: { transcript: 'Hi' } } }]))).toBe(true);
    expect(hasContent(chunk([{ index: 0, delta: { audio: { id: 'a', data: 'AAAA' } } }]))).toBe(
      true,
    );
    expect(hasContent(chunk([{ index: 0, delta: { images: [{ type: 'image_url' }] } }]))).toBe(
      true,
    );
    expect(hasContent(chunk([], { prompt_tokens: 1, completion_tokens: 1 }))).toBe(true);
    // Any choice counts, not only the first.
    expect(
      hasContent(
        chunk([
          { index: 0, delta: {} },
          { index: 1, delta: { content: 'x' } },
        ]),
      ),
    ).toBe(true);
  });
});
