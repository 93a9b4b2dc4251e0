/**
 * One SSE event of a `chat.completion.chunk`, as an OpenAI-compatible upstream writes it, for
 * upstreams a test writes by hand (`data: {...}` and a blank line).
 *
 * @example
 * res.write(chunkEvent('chatcmpl-1', { role: 'assistant', content: '' }));
 * res.write(chunkEvent('chatcmpl-1', {}, 'stop'));
 */
export function chunkEvent(id: string, delta: object, finish: string | null = null): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}
