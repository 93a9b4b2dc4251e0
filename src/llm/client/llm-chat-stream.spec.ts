import { PassThrough } from 'node:stream';
import type { ChatCompletionChunk, LlmCallMetadata } from '../call/chat.types';
import { readStreamItems } from '../transport/sse-chunks';
import { AttemptTimeout } from './attempt-timeout.layer';
import { LlmChatStream, type StreamEnding } from './llm-chat-stream';
import type { OpenedStream } from './stream-attempt';

const metadata = {
  attempts: 1,
  upstream: 'u',
  model: 'm',
  fallbacks: [],
} as unknown as LlmCallMetadata;

const chunk = (content: string, finish: string | null = null): ChatCompletionChunk =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  }) as ChatCompletionChunk;

/** A stream whose start has already read a role chunk and the first content. */
function openedStream(): { opened: OpenedStream; body: PassThrough } {
  const body = new PassThrough();
  const opened: OpenedStream = {
    head: [chunk(''), chunk('Hi')],
    items: readStreamItems(body),
    timeout: new AttemptTimeout(new AbortController().signal),
    toError: (error) => error as never,
    ended: false,
    idleMs: 60_000,
    secrets: [],
    usageAdded: false,
  };
  return { opened, body };
}

describe('LlmChatStream', () => {
  it('starts once for ready() and the iteration after it, and yields the head, then the rest', async () => {
    const { opened, body } = openedStream();
    let starts = 0;
    const endings: StreamEnding[] = [];
    const stream = new LlmChatStream(
      () => {
        starts++;
        return Promise.resolve({ opened, metadata });
      },
      (ending) => {
        endings.push(ending);
        return Promise.resolve();
      },
    );
    expect(await stream.ready()).toBe(metadata);
    expect(await stream.ready()).toBe(metadata);
    body.end(`data: ${JSON.stringify(chunk(' there', 'stop'))}\n\ndata: [DONE]\n\n`);
    const contents: string[] = [];
    for await (const received of stream) contents.push(received.choices[0]!.delta.content ?? '');

    expect(starts).toBe(1);
    expect(contents).toEqual(['', 'Hi', ' there']);
    expect(stream.receivedText).toBe('Hi there');
    expect(endings).toHaveLength(1);
    expect(endings[0]!.error).toBeUndefined();
  });

  it('starts at the first next() when iterated without ready()', async () => {
    const { opened, body } = openedStream();
    let starts = 0;
    const stream = new LlmChatStream(
      () => {
        starts++;
        return Promise.resolve({ opened, metadata });
      },
      () => Promise.resolve(),
    );
    body.end('data: [DONE]\n\n');
    const iterator = stream[Symbol.asyncIterator]();
    expect(starts).toBe(0);
    expect(await iterator.next()).toMatchObject({ done: false, value: chunk('') });
    expect(starts).toBe(1);
    expect(stream.metadata).toBe(metadata);
    expect(await iterator.next()).toMatchObject({ done: false, value: chunk('Hi') });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('rejects ready() with what a starter throws at once, as an async start would', async () => {
    const stream = new LlmChatStream(
      () => {
        throw new Error('no start');
      },
      () => Promise.resolve(),
    );
    await expect(stream.ready()).rejects.toThrow('no start');
  });
});
