import { maskPromptEcho, PROMPT_ECHO_MASK } from './prompt-echo';

describe('maskPromptEcho', () => {
  const prompt = [
    { role: 'system', content: 'You are a careful assistant for ACME support.' },
    {
      role: 'user',
      content: [{ type: 'text', text: 'How do I reset the\n  reactor   core safely?' }],
    },
  ];

  it('masks a quoted run of the prompt, whitespace collapsed as in the message', () => {
    const text = 'Your prompt "How do I reset the reactor core safely?" was flagged by the filter.';
    expect(maskPromptEcho(text, prompt)).toBe(
      `Your prompt "${PROMPT_ECHO_MASK}" was flagged by the filter.`,
    );
  });

  it('masks a quote of a string content, at the very end of the message too', () => {
    expect(maskPromptEcho('Refused: You are a careful assistant for ACME support.', prompt)).toBe(
      `Refused: ${PROMPT_ECHO_MASK}`,
    );
  });

  it('leaves a message that quotes nothing of the prompt, or a run shorter than 16', () => {
    const text = "Invalid value for 'temperature': must be between 0 and 2 (the reactor).";
    expect(maskPromptEcho(text, prompt)).toBe(text);
    expect(maskPromptEcho(text, 'not a list')).toBe(text);
  });
});
