/** What the benchmark sends: a short chat completion, as any OpenAI client would. */
const MESSAGES = [{ role: 'user', content: 'Say hi in one word.' }];

/** One chat completion through a gateway: `200`, `429 rate_limited`, or `network`. */
export async function sendChat(gatewayUrl: string): Promise<string> {
  try {
    const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
      // Past the module's default deadline (120 s): the gateway's own answer is what counts.
      signal: AbortSignal.timeout(150_000),
    });
    const text = await response.text();
    if (response.ok) return String(response.status);
    return `${response.status} ${errorCode(text)}`.trim();
  } catch {
    return 'network';
  }
}

function errorCode(body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}

/** The gateway's Prometheus text, or a comment saying why there is none. */
export async function scrape(gatewayUrl: string): Promise<string> {
  try {
    const response = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return await response.text();
  } catch (error) {
    return `# metrics unavailable: ${String(error)}`;
  }
}

// What a replica said about its limiter: falling back from Redis and returning to it.
export function limiterLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /redis|limiter|budget|fall.?back/i.test(line))
    .map((line) => line.trim())
    .slice(0, 20);
}
