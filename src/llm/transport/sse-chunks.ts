import type { Readable } from 'node:stream';
import { SseParser } from './sse-parser';

/** One thing read from an OpenAI-style SSE stream. */
export type StreamItem =
  /** A `: comment` line: keep-alive. */
  | { type: 'keepalive' }
  /** `data: [DONE]`: the provider finished the stream. */
  | { type: 'done' }
  /** Any other `data:` payload, parsed; `json` is undefined when it was not JSON. */
  | { type: 'data'; raw: string; json: unknown };

/** Decodes a response body into SSE items as they arrive. */
export async function* readStreamItems(
  body: Readable,
): AsyncGenerator<StreamItem, void, undefined> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for await (const chunk of body as AsyncIterable<Buffer>) {
    yield* toItems(parser.push(decoder.decode(chunk, { stream: true })));
  }
  yield* toItems(parser.push(decoder.decode()));
  yield* toItems(parser.end());
}

function* toItems(events: ReturnType<SseParser['push']>): Generator<StreamItem> {
  for (const event of events) {
    if (event.type === 'comment') {
      yield { type: 'keepalive' };
    } else if (event.data.trim() === '[DONE]') {
      yield { type: 'done' };
    } else {
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        json = undefined;
      }
      yield { type: 'data', raw: event.data, json };
    }
  }
}
