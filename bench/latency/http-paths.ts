import * as http from 'node:http';

/** The paths of the gateway latency comparison. */
export type HttpPathId = 'direct' | 'bare' | 'gateway' | 'fastify' | 'baseline' | 'portkey';

/** One way of reaching the same upstream over HTTP. */
export interface HttpPath {
  id: HttpPathId;
  label: string;
  /** One chat completion: sent, read whole, parsed, checked. */
  call(): Promise<void>;
  /**
   * One streamed chat completion: resolves with the microseconds from sending the request to
   * the first content delta, and the whole stream read.
   */
  stream(): Promise<number>;
  /** Sends one stream request over `agent`, for callers that hold streams open. */
  openStream(
    agent: http.Agent,
    onResponse: (res: http.IncomingMessage) => void,
  ): http.ClientRequest;
  close(): void;
}

export const BENCH_MODEL = 'gpt-4o-mini';
const BODY = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Say hi in one word.' }],
});
const STREAM_BODY = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Say hi in one word.' }],
  stream: true,
});

/**
 * An HTTP path: POST `{origin}{prefix}/chat/completions` over a keep-alive agent (the same
 * client code for every path, so only what is behind it differs).
 */
export function httpPath(
  id: HttpPathId,
  label: string,
  url: string,
  extraHeaders: Record<string, string> = {},
): HttpPath {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const target = new URL(url);
  const headers = {
    'content-type': 'application/json',
    authorization: 'Bearer sk-bench',
    ...extraHeaders,
  };
  const send = (
    body: string,
    onResponse: (res: http.IncomingMessage) => void,
    via: http.Agent = agent,
  ) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      agent: via,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    req.once('response', onResponse);
    return req;
  };
  const once = {
    call: () =>
      new Promise<void>((resolve, reject) => {
        const req = send(BODY, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => {
            try {
              const data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                choices?: unknown;
              };
              if (res.statusCode !== 200 || !Array.isArray(data.choices)) {
                throw new Error(`${label}: ${res.statusCode} ${JSON.stringify(data)}`);
              }
              resolve();
            } catch (error) {
              reject(error);
            }
          });
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(BODY);
      }),
    stream: () =>
      new Promise<number>((resolve, reject) => {
        const startedAt = process.hrtime.bigint();
        let firstUs: number | undefined;
        const req = send(STREAM_BODY, (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`${label}: stream answered ${res.statusCode}`));
            res.resume();
            return;
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (firstUs === undefined) {
              text += chunk;
              // The first delta that carries content, not the role-only first chunk.
              if (/"content":"[^"]/.test(text)) {
                firstUs = Number(process.hrtime.bigint() - startedAt) / 1_000;
                text = '';
              }
            }
          });
          res.once('end', () =>
            firstUs === undefined
              ? reject(new Error(`${label}: a stream ended without content`))
              : resolve(firstUs),
          );
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(STREAM_BODY);
      }),
  };
  return {
    id,
    label,
    call: () => retryStaleSocket(once.call),
    stream: () => retryStaleSocket(once.stream),
    openStream: (via, onResponse) => {
      const req = send(STREAM_BODY, onResponse, via);
      req.end(STREAM_BODY);
      return req;
    },
    close: () => agent.destroy(),
  };
}

/**
 * Retries once when a keep-alive socket the server had just closed was reused (Node's
 * `ECONNRESET` "socket hang up" race after an idle pause between phases): the server never saw
 * that request, so it is not a failure of the path.
 */
async function retryStaleSocket<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
    return attempt();
  }
}
