import axios from 'axios';
import * as http from 'node:http';
import type { ChatCompletionRequest } from '../../src/llm/call/chat.types';
import type { LlmClient } from '../../src/llm/client/llm-client';
import { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';

/** `llm-memory` and `llm-redis` are LlmClient with the in-memory and the Redis rate limiter. */
export type CallPathId = 'http' | 'axios' | 'fetch' | 'llm' | 'llm-memory' | 'llm-redis';

/** One way of making the same chat completion call. */
export interface CallPath {
  /** Stable key in results and plots. */
  id: CallPathId;
  label: string;
  /** One complete call: request sent, whole response read and parsed. */
  call(): Promise<void>;
  /** Frees what the path holds open (keep-alive sockets). */
  close(): void;
}

const REQUEST: ChatCompletionRequest = {
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Say hi in one word.' }],
};

/** The body LlmClient sends for {@link REQUEST}: the direct calls send exactly this too. */
const WIRE_BODY = { ...REQUEST, stream: false };

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json',
  authorization: `Bearer ${BENCH_API_KEY}`,
};

/**
 * The baseline: the HTTP stack the module uses (Node's `http`, keep-alive agent with LIFO
 * scheduling), called directly, so what LlmClient adds on top is the module's own work.
 */
export function directHttpPath(baseUrl: string): CallPath {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const url = new URL(`${baseUrl}/chat/completions`);
  const body = JSON.stringify(WIRE_BODY);
  const headers = { ...HEADERS, 'content-length': String(Buffer.byteLength(body)) };
  return {
    id: 'http',
    label: 'direct (node:http)',
    call: () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            agent,
            headers,
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (chunk: Buffer) => parts.push(chunk));
            res.on('end', () => {
              try {
                expectCompletion(JSON.parse(Buffer.concat(parts).toString('utf8')), 'direct http');
                resolve();
              } catch (error) {
                reject(error);
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/** Extra context: axios (the module's transport until issue 15) over the same kind of agent. */
export function directAxiosPath(baseUrl: string): CallPath {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const client = axios.create({ httpAgent: agent, headers: HEADERS, maxRedirects: 0 });
  const url = `${baseUrl}/chat/completions`;
  return {
    id: 'axios',
    label: 'direct (axios)',
    call: async () => {
      const response = await client.post<{ choices?: unknown }>(url, WIRE_BODY);
      expectCompletion(response.data, 'direct axios');
    },
    close: () => agent.destroy(),
  };
}

/** Extra context: Node's own fetch (undici), which keeps connections alive by default. */
export function directFetchPath(baseUrl: string): CallPath {
  const url = `${baseUrl}/chat/completions`;
  const body = JSON.stringify(WIRE_BODY);
  return {
    id: 'fetch',
    label: 'direct (fetch)',
    call: async () => {
      const response = await fetch(url, { method: 'POST', headers: HEADERS, body });
      expectCompletion(await response.json(), 'direct fetch');
    },
    // undici's global pool closes its sockets when the simulator destroys them.
    close: () => undefined,
  };
}

/** The path under test: the full resilient call path of `LlmClient.chat`. */
export function llmClientPath(
  llm: LlmClient,
  id: Extract<CallPathId, `llm${string}`> = 'llm',
  label = 'LlmClient.chat',
): CallPath {
  return {
    id,
    label,
    call: async () => {
      const { completion } = await llm.chat(REQUEST);
      expectCompletion(completion, 'LlmClient');
    },
    close: () => undefined,
  };
}

// A benchmark of error responses would be fast and meaningless: every call checks its answer.
function expectCompletion(data: unknown, path: string): void {
  if (!Array.isArray((data as { choices?: unknown } | null)?.choices)) {
    throw new Error(`The ${path} call did not return a chat completion; the benchmark stops.`);
  }
}
