import * as http from 'node:http';
import { gzipSync } from 'node:zlib';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MIB = 1024 * 1024;

interface ErrorBody {
  error: { message: string; code: string };
}

/** A chat body of exactly `bytes` bytes. */
function bodyOf(bytes: number): string {
  const frame = JSON.stringify({ messages: [{ role: 'user', content: '' }] });
  return frame.replace('""', `"${'y'.repeat(bytes - frame.length)}"`);
}

/** One POST with these bytes, with Content-Length or chunked; the status and the body. */
function post(
  url: string,
  body: string | Buffer,
  { chunked = false, headers = {} }: { chunked?: boolean; headers?: http.OutgoingHttpHeaders } = {},
): Promise<{ status: number; body: string }> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': bytes.length }),
        ...headers,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (text += piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.end(bytes);
  });
}

describe.each(['express', 'fastify'])('gateway on %s: GATEWAY_BODY_LIMIT_MB', (platform) => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ apiKey: 'sk-limit-test' });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    sim.reset();
  });

  const start = (limitMb: string) =>
    startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: 'sk-limit-test',
      GATEWAY_HTTP_PLATFORM: platform,
      GATEWAY_BODY_LIMIT_MB: limitMb,
    });

  it('refuses a body over a lowered limit, declared, chunked or compressed, naming it', async () => {
    gateway = await start('1');
    const over = bodyOf(MIB + 1);
    for (const answer of [
      await post(gateway.url, over),
      await post(gateway.url, over, { chunked: true }),
      // 1 MiB and a byte once decoded, a few KiB on the wire: the decoded bytes count.
      await post(gateway.url, gzipSync(over), { headers: { 'content-encoding': 'gzip' } }),
    ]) {
      expect(answer.status).toBe(413);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      expect(error.code).toBe('payload_too_large');
      expect(error.message).toContain('(1mb)');
    }
    expect(sim.requests).toHaveLength(0);
    sim.script([{ type: 'ok', content: 'fits' }]);
    expect((await post(gateway.url, bodyOf(MIB))).status).toBe(200);
    expect(sim.requests).toHaveLength(1);
  });

  it('accepts a body over the default 10 MiB once the limit is raised', async () => {
    gateway = await start('12');
    sim.script([{ type: 'ok', content: 'big' }]);
    const answer = await post(gateway.url, bodyOf(11 * MIB));
    expect(answer.status).toBe(200);
    expect(sim.requests).toHaveLength(1);
    const refused = await post(gateway.url, bodyOf(12 * MIB + 1));
    expect(refused.status).toBe(413);
    expect((JSON.parse(refused.body) as ErrorBody).error.message).toContain('(12mb)');
  }, 30_000);
});
