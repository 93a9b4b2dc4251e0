import { type ChatMessage } from '../call/chat.types';

/** One part of a message in the GenAI conventions' message JSON schema. */
type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name?: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: unknown }
  | { type: string };

/** A message in the GenAI conventions' input/output messages JSON schema. */
interface GenAiMessage {
  role: string;
  parts: MessagePart[];
  name?: string;
}

/**
 * Converts OpenAI chat messages to the JSON the GenAI conventions give for
 * `gen_ai.input.messages` (`[{ role, parts: [{ type: 'text', content }] }]`). Tool calls and tool
 * results keep their ids; non-text parts (images, audio) keep only their type, so a span never
 * carries a base64 image.
 *
 * @see https://github.com/open-telemetry/semantic-conventions/blob/main/docs/gen-ai/gen-ai-input-messages.json
 * @example
 * toGenAiMessagesJson([{ role: 'user', content: 'Hi' }]);
 * // '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]'
 */
export function toGenAiMessagesJson(messages: readonly ChatMessage[]): string {
  return JSON.stringify(messages.map(toGenAiMessage));
}

function toGenAiMessage(message: ChatMessage): GenAiMessage {
  const parts: MessagePart[] = [];
  if (message.role === 'tool') {
    const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : undefined;
    parts.push({ type: 'tool_call_response', id, response: message.content ?? null });
  } else {
    parts.push(...contentParts(message.content));
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as Array<Record<string, unknown>>) {
      const fn = (call.function ?? {}) as { name?: string; arguments?: unknown };
      parts.push({
        type: 'tool_call',
        id: call.id as string,
        name: fn.name,
        arguments: fn.arguments,
      });
    }
  }
  return {
    role: message.role,
    parts,
    ...(typeof message.name === 'string' ? { name: message.name } : {}),
  };
}

function contentParts(content: ChatMessage['content']): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.map((part): MessagePart => {
    const p = (part ?? {}) as { type?: unknown; text?: unknown };
    if (p.type === 'text' && typeof p.text === 'string') return { type: 'text', content: p.text };
    return { type: typeof p.type === 'string' ? p.type : 'unknown' };
  });
}
