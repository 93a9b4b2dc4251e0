import { Body, Controller, INestApplication, Module, Post, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clientAbortSignal,
  isLlmError,
  LlmClient,
  LlmModule,
  type ChatCompletionRequest,
} from '../src/llm/index';
import { UpstreamSimulator } from '../src/simulator/index';
import { FAST_POLICIES, TEST_API_KEY, USER } from './support/llm-test-app';

// clientAbortSignal(res) against a real HTTP client that hangs up: on Node 22 and 24 alike (CI
// runs both), the call it started is cancelled, its upstream request ends, its slot is freed.

/** How each call the controller made ended: 'success' or the LlmError's kind. */
const outcomes: string[] = [];

function record(error: unknown): void {
  outcomes.push(isLlmError(error) ? error.kind : `not an LlmError: ${String(error)}`);
}

@Controller()
class ChatController {
  constructor(private readonly llm: LlmClient) {}

  // The README's pattern: the response stays Nest's, the signal follows the client.
  @Post('chat')
  async chat(@Body() body: ChatCompletionRequest, @Res({ passthrough: true }) res: Response) {
    try {
      const { completion } = await this.llm.chat(body, { signal: clientAbortSignal(res) });
      outcomes.push('success');
      return completion;
    } catch (error) {
      record(error);
      throw error;
    }
  }

  @Post('stream')
  async stream(@Body() body: ChatCompletionRequest, @Res() res: Response): Promise<void> {
    const stream = this.llm.chatStream(body, { signal: clientAbortSignal(res) });
    res.setHeader('content-type', 'text/event-stream');
    try {
      for await (const chunk of stream) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.end('data: [DONE]\n\n');
      outcomes.push('success');
    } catch (error) {
      record(error);
      res.destroy();
    }
  }
}

describe('clientAbortSignal: a client that hangs up cancels its call', () => {
  let sim: UpstreamSimulator;
  let app: INestApplication;
  let url: string;
  let llm: LlmClient;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ apiKey: TEST_API_KEY });
    @Module({
      imports: [
        LlmModule.forRoot({
          upstreams: [
            {
              name: 'sim',
              baseUrl: sim.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'gpt-4o-mini',
              ...FAST_POLICIES,
              // One slot and no queue: a call left running would make the next one fail at once.
              bulkhead: { maxConcurrent: 1, maxQueue: 0 },
              timeouts: { attemptMs: 10_000, deadlineMs: 10_000, firstChunkMs: 5000, idleMs: 5000 },
            },
          ],
        }),
      ],
      controllers: [ChatController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    llm = app.get(LlmClient);
  });
  beforeEach(() => {
    sim.reset();
    outcomes.length = 0;
  });
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  it('mid-stream: the stream ends with cancelled and its slot is free for the next call', async () => {
    // 400 chunks 50 ms apart: 20 s if nobody stopped it.
    const chunks = Array.from({ length: 400 }, (_, i) => `w${i} `);
    sim.script([{ type: 'stream', chunks, delayMs: 50 }]);

    // The content itself, not just `w0`: a chunk's random id (`chatcmpl-…lw0X…`) may hold that too,
    // and the client then hung up after the role chunk (seen once in CI).
    const firstChunk = await hangUpAfter(`${url}/stream`, (received) =>
      received.includes('"content":"w0 "'),
    );

    await until(() => outcomes.length === 1);
    expect(firstChunk).toContain('"content":"w0 "');
    expect(outcomes).toEqual(['cancelled']);
    // One upstream request, not retried. The simulator records its status when the connection
    // closes: well before the 20 s its stream would take, so the module aborted it.
    await until(() => sim.requests[0]?.status !== undefined);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]).toMatchObject({ step: 'stream', status: 200 });
    sim.script([{ type: 'ok', content: 'next' }]);
    const { completion } = await llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('next');
  });

  it('before the answer: a waiting chat() ends with cancelled', async () => {
    sim.script([{ type: 'hang' }]);

    await hangUpAfter(
      `${url}/chat`,
      () => false,
      () => sim.requests.length === 1,
    );

    await until(() => outcomes.length === 1);
    expect(outcomes).toEqual(['cancelled']);
    expect(sim.requests).toHaveLength(1);
    sim.script([{ type: 'ok', content: 'next' }]);
    const { completion } = await llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('next');
  });

  it('a complete response never aborts its signal', async () => {
    sim.script([{ type: 'ok', content: 'whole' }]);
    const body = await post(`${url}/chat`);
    expect(JSON.parse(body)).toMatchObject({ choices: [{ message: { content: 'whole' } }] });
    expect(outcomes).toEqual(['success']);
  });
});

/**
 * POSTs a chat request and destroys the connection once `received` (the body so far) passes
 * `enough`, or once `ready()` holds: a client that hangs up. Resolves with what it received.
 */
async function hangUpAfter(
  target: string,
  enough: (received: string) => boolean,
  ready?: () => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const req = http.request(target, { method: 'POST', headers: JSON_HEADERS }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        received += piece;
        if (enough(received)) req.destroy();
      });
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve(received));
    req.end(JSON.stringify({ messages: USER }));
    if (ready) void until(ready).then(() => req.destroy(), reject);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function post(target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'POST', headers: JSON_HEADERS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (body += piece));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ messages: USER }));
  });
}

/** Polls `check` every 10 ms; fails after 5 s (a generous bound, not a timing assertion). */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 5000) throw new Error('condition not met within 5 s');
    await sleep(10);
  }
}
