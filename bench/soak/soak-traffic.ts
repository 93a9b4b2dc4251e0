/** One kind of request the soak sends. */
export type RequestKind =
  'plain' | 'stream' | 'nested' | 'long-model' | 'form-post' | 'crlf-model' | 'slow-reader';

/** How one request ended: its status and error code, or how the connection failed. */
export interface Fate {
  kind: RequestKind;
  /** e.g. `200`, `503 circuit_open`, `stream incomplete_stream`, `network ECONNRESET`. */
  outcome: string;
  ms: number;
}

const MESSAGES = [{ role: 'user', content: 'Tell me about resilience.' }];

/** A JSON body nested `depth` arrays deep inside a message's content. */
export function nestedBody(depth: number): string {
  return `{"messages":[{"role":"user","content":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
}

const BODIES: Record<RequestKind, () => { body: string; type?: string; stream?: boolean }> = {
  plain: () => ({ body: JSON.stringify({ messages: MESSAGES }) }),
  stream: () => ({ body: JSON.stringify({ messages: MESSAGES, stream: true }), stream: true }),
  'slow-reader': () => ({
    body: JSON.stringify({ messages: MESSAGES, stream: true }),
    stream: true,
  }),
  nested: () => ({ body: nestedBody(6000) }),
  'long-model': () => ({
    body: JSON.stringify({ model: 'm'.repeat(2 * 1024 * 1024), messages: MESSAGES }),
  }),
  'form-post': () => ({ body: 'messages=hi', type: 'application/x-www-form-urlencoded' }),
  'crlf-model': () => ({
    body: JSON.stringify({ model: 'gpt\r\n[Nest] 1 - LOG forged', messages: MESSAGES }),
  }),
};

/**
 * Sends one request of `kind` and reads the answer to its end (a slow reader pauses between
 * chunks), then says how it ended. Never throws: every request has a fate.
 */
export async function send(url: string, kind: RequestKind): Promise<Fate> {
  const started = Date.now();
  const { body, type, stream } = BODIES[kind]();
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': type ?? 'application/json', 'x-feature-name': `soak-${kind}` },
      body,
      signal: AbortSignal.timeout(60_000),
    });
    let text = '';
    if (kind === 'slow-reader' && res.body) {
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } else {
      text = await res.text();
    }
    return {
      kind,
      outcome: outcomeOf(res.status, text, stream === true),
      ms: Date.now() - started,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const name = cause?.code ?? (error as Error).name;
    return { kind, outcome: `network ${name}`, ms: Date.now() - started };
  }
}

function outcomeOf(status: number, text: string, stream: boolean): string {
  if (status === 200 && stream) {
    if (text.trimEnd().endsWith('data: [DONE]')) return '200';
    const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
    return `200 stream ended with ${code ?? 'no [DONE]'}`;
  }
  if (status === 200) return '200';
  const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
  return `${status} ${code ?? ''}`.trim();
}

/** Counts by kind and outcome, for the report. */
export function tally(fates: readonly Fate[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const fate of fates) {
    const key = `${fate.kind}: ${fate.outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
