import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { type LoopbackUpstream, startLoopbackUpstream } from './support/loopback-upstream';
import { postChat } from './support/post-chat';

// The gateway relays a completion and its chunks as the upstream wrote them (their JSON text, not
// a re-serialisation of the parsed object), as a client calling the upstream directly gets them.

/** Pretty-printed, as OpenAI answers, with a number a re-serialisation would spell otherwise. */
const COMPLETION_TEXT = `{
  "id": "chatcmpl-relay",
  "object": "chat.completion",
  "created": 1700000000,
  "model": "gpt-4o-mini",
  "choices": [
    {
      "index": 0,
      "message": { "role": "assistant", "content": "caf\\u00e9 \u2014 ok" },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": { "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "cost": 1.50 }
}
`;

const chunkText = (delta: object, finish: string | null = null): string =>
  `{"id": "chatcmpl-relay", "object": "chat.completion.chunk", "created": 1700000000, ` +
  `"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": ${JSON.stringify(delta)}, ` +
  `"finish_reason": ${JSON.stringify(finish)}}]}`;

const ROLE = chunkText({ role: 'assistant', content: '' });
const HELLO = chunkText({ content: 'Hello' });
/** One chunk's JSON split over two `data:` lines: its data is the two joined by a line break. */
const SPLIT = [
  `{"id": "chatcmpl-relay", "object": "chat.completion.chunk", "created": 1700000000,`,
  ` "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": " world"}, "finish_reason": null}]}`,
];
const STOP = chunkText({}, 'stop');

function startUpstream(): Promise<LoopbackUpstream> {
  return startLoopbackUpstream((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (piece: string) => (body += piece));
    req.once('end', () => {
      if ((JSON.parse(body) as { stream?: boolean }).stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(COMPLETION_TEXT);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        `data: ${ROLE}\n\ndata: ${HELLO}\n\ndata: ${SPLIT[0]}\ndata: ${SPLIT[1]}\n\n` +
          `data: ${STOP}\n\ndata: [DONE]\n\n`,
      );
    });
  });
}

describe('Gateway: completions and chunks relayed as the upstream wrote them (e2e)', () => {
  let upstream: LoopbackUpstream;
  let gateway: GatewayTestApp;
  let url: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    gateway = await startGatewayApp({ LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: 'sk-test' });
    url = `${gateway.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('answers a completion with the upstream text itself, its length in bytes', async () => {
    const { status, headers, text } = await postChat(url, false);

    expect(status).toBe(200);
    expect(text).toBe(COMPLETION_TEXT);
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(COMPLETION_TEXT));
    expect(headers['x-llm-attempts']).toBe('1');
  });

  it('relays each one-line chunk as written, and a chunk whose data spans lines as one line of its JSON', async () => {
    const { status, text } = await postChat(url, true);

    expect(status).toBe(200);
    const data = text
      .split('\n\n')
      .filter((block) => block !== '')
      .map((block) => {
        // Every event the gateway writes is a single `data:` line.
        expect(block).toMatch(/^data: [^\n]*$/);
        return block.slice('data: '.length);
      });
    expect(data).toEqual([
      ROLE,
      HELLO,
      JSON.stringify(JSON.parse(SPLIT.join('\n'))),
      STOP,
      '[DONE]',
    ]);
  });
});
