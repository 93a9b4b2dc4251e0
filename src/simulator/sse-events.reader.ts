/** One server-sent event: a `data:` payload or a `:` comment (keep-alive), and when it arrived. */
export interface SseEvent {
  data?: string;
  comment?: string;
  /** `Date.now()` when the event was complete, to check pacing. */
  at: number;
}

/**
 * Reads SSE events from a fetch body as they arrive; for tests and benchmarks that need to see
 * the pacing (drip, stall, keep-alives), which a client SDK hides.
 *
 * @example
 * for await (const event of sseEvents(response.body!)) if (event.data === '[DONE]') break;
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) yield event;
      end = buffer.indexOf('\n\n');
    }
  }
}

/**
 * Reads the whole stream into a list of events.
 *
 * @example
 * const events = await readSseEvents(await fetch(url, init));
 * events.at(-1)?.data; // '[DONE]'
 */
export async function readSseEvents(response: Response): Promise<SseEvent[]> {
  if (!response.body) return [];
  const events: SseEvent[] = [];
  for await (const event of sseEvents(response.body)) events.push(event);
  return events;
}

function parseBlock(block: string): SseEvent | undefined {
  const data: string[] = [];
  let comment: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comment = line.slice(1).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0 && comment === undefined) return undefined;
  return { ...(data.length > 0 ? { data: data.join('\n') } : {}), comment, at: Date.now() };
}
