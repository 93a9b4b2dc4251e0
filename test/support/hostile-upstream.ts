import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OpenAI-compatible upstream that echoes its caller's key wherever a provider might. */
export interface HostileUpstream {
  /** e.g. `http://127.0.0.1:41234/v1` */
  baseUrl: string;
  /** Chat requests received. */
  requests: number;
  close(): Promise<void>;
}

/**
 * The probe cases of issue 9, chosen by the request's `model`:
 * - `echo-id`: a good completion whose `x-request-id` is the key;
 * - `echo-error`: a 500 whose body, message and `x-request-id` hold the key;
 * - `echo-tail`: a 400 quoting the key's last 12 characters, as a provider's mask might;
 * - `echo-stream`: an SSE stream with content, then an error event quoting the key;
 * - `echo-model`: a good completion whose `id`, `model` and `finish_reason` are the key, plain or
 *   streamed as the request asks.
 * The key is read from the request's `Authorization`, so it is whatever the gateway sends.
 */
export async function startHostileUpstream(): Promise<HostileUpstream> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    void handle(req, res, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  state: { requests: number },
): Promise<void> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  state.requests++;
  const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const { model, stream } = JSON.parse(raw) as { model: string; stream?: boolean };
  const completion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
  if (model === 'echo-id') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': key });
    res.end(JSON.stringify(completion));
  } else if (model === 'echo-error') {
    res.writeHead(500, { 'content-type': 'application/json', 'x-request-id': `req-${key}` });
    res.end(JSON.stringify({ error: { message: `Internal error for key ${key}`, code: key } }));
  } else if (model === 'echo-tail') {
    res.writeHead(400, { 'content-type': 'application/json' });
    const message = `Incorrect API key provided: ****${key.slice(-12)}.`;
    res.end(JSON.stringify({ error: { message, code: 'invalid_api_key' } }));
  } else if (model === 'echo-model' && stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = { id: key, object: 'chat.completion.chunk', created: 1, model: key };
    const delta = (content: string, reason: string | null) =>
      `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content }, finish_reason: reason }] })}\n\n`;
    res.end(`${delta('Hel', null)}${delta('lo', key)}data: [DONE]\n\n`);
  } else if (model === 'echo-model') {
    res.writeHead(200, { 'content-type': 'application/json' });
    const choice = { ...completion.choices[0], finish_reason: key };
    res.end(JSON.stringify({ ...completion, id: key, model: key, choices: [choice] }));
  } else if (model === 'echo-stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = { ...completion, object: 'chat.completion.chunk', choices: undefined };
    res.write(
      `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`,
    );
    res.end(`data: ${JSON.stringify({ error: { message: `stream failed for ${key}` } })}\n\n`);
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion));
  }
}
