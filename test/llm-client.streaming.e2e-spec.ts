import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LlmChatStream, MAX_RECEIVED_TEXT } from '../src/llm/client/llm-chat-stream';
import { MAX_HEAD_CHARS } from '../src/llm/client/stream-attempt';
import { type LlmError, LlmIncompleteStreamError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type CallRecorder, recordCalls } from './support/call-recorder';
import { eventually } from './support/eventually';
import { failureOf, type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';
import { chunkEvent } from './support/sse-chunk-event';

async function collect(stream: LlmChatStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

// `tight` (first content chunk within 120 ms, at most 100 ms between chunks) serves the tests
// where a stream timeout must fire; `t` has timeouts far from every scripted delay, so a loaded
// machine cannot fire them where they must not fire.
describe('streaming', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  let tight: LlmTestApp;
  let recorder: CallRecorder;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    t = await startLlmApp(sim.baseUrl, {
      timeouts: { attemptMs: 5000, deadlineMs: 10_000, firstChunkMs: 2000, idleMs: 2000 },
    });
    tight = await startLlmApp(sim.baseUrl, {
      timeouts: { attemptMs: 1000, deadlineMs: 3000, firstChunkMs: 120, idleMs: 100 },
    });
    recorder = recordCalls(tight.app);
  });
  beforeEach(() => {
    sim.reset();
    recorder.clear();
  });
  afterAll(async () => {
    await Promise.all([t.close(), tight.close()]);
    await sim.close();
  });

  it('streams OpenAI chunks and reports metadata', async () => {
    sim.script([{ type: 'stream', chunks: ['Hel', 'lo ', 'world'] }]);
    const stream = t.llm.chatStream({ messages: USER });
    expect(await collect(stream)).toBe('Hello world');
    expect(stream.metadata).toMatchObject({ attempts: 1, upstream: 'sim', model: 'gpt-4o-mini' });
    expect(stream.metadata?.upstreamRequestId).toMatch(/^req_/);
    expect((sim.requests[0]?.body as { stream?: boolean }).stream).toBe(true);
  });

  it('is lazy: nothing is sent until it is iterated', async () => {
    t.llm.chatStream({ messages: USER });
    await sleep(20);
    expect(sim.requests).toHaveLength(0);
  });

  it('retries freely before the first content chunk', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'reset' },
      { type: 'stream', chunks: ['second ', 'try'] },
    ]);
    const stream = t.llm.chatStream({ messages: USER });
    expect(await collect(stream)).toBe('second try');
    expect(stream.metadata?.attempts).toBe(3);
  });

  it('keep-alive comments and empty deltas do not satisfy the first-chunk timeout', async () => {
    sim.script([
      { type: 'stream', keepAliveOnly: true, keepAliveEveryMs: 20 },
      {
        type: 'stream',
        emptyDeltas: 3,
        firstChunkDelayMs: 300,
        keepAliveEveryMs: 20,
        chunks: ['late'],
      },
      { type: 'stream', chunks: ['on time'] },
    ]);
    const started = Date.now();
    const stream = tight.llm.chatStream({ messages: USER });
    expect(await collect(stream)).toBe('on time');
    expect(stream.metadata?.attempts).toBe(3);
    // Two first-chunk timeouts of 120 ms, plus two short backoffs.
    expect(Date.now() - started).toBeGreaterThanOrEqual(240 - 6);
    // Each of the first two attempts ended on the first-chunk timeout (the second one before its
    // late chunk came at 300 ms), then a short backoff, not a server hint, led to the next one.
    const call = await eventually(() => recorder.calls[0] ?? false);
    expect(call.attempts.map((a) => a.errorKind)).toEqual(['timeout', 'timeout', undefined]);
    expect(call.retries.map((r) => [r.reason, r.source])).toEqual([
      ['timeout', 'backoff'],
      ['timeout', 'backoff'],
    ]);
  });

  it('a first chunk that keeps not coming fails as timeout after every retry', async () => {
    sim.script([{ type: 'stream', keepAliveOnly: true, keepAliveEveryMs: 20, repeat: 10 }]);
    const error: LlmError = await failureOf(() => tight.llm.chatStream({ messages: USER }).ready());
    expect(error).toMatchObject({ kind: 'timeout', attempts: 4 });
    expect(error.message).toContain('first-chunk timeout');
  });

  it('a drip slower than nothing but faster than the idle timeout completes', async () => {
    // 4 chunks 150 ms apart: 600 ms in all, longer than the 400 ms idle timeout between chunks.
    const drip = await startLlmApp(sim.baseUrl, {
      timeouts: { attemptMs: 5000, deadlineMs: 10_000, firstChunkMs: 2000, idleMs: 400 },
    });
    try {
      sim.script([{ type: 'stream', chunks: ['a', 'b', 'c', 'd'], delayMs: 150 }]);
      expect(await collect(drip.llm.chatStream({ messages: USER }))).toBe('abcd');
    } finally {
      await drip.close();
    }
  });

  it('a stall after content ends with incomplete_stream carrying the text so far', async () => {
    // Repeated: on a loaded machine a first chunk later than the 120 ms first-chunk timeout is
    // retried (before content, as it should be), and the retry must stall as well.
    sim.script([
      {
        type: 'stream',
        chunks: ['partial ', 'answer ', 'never ', 'finished'],
        stallAfter: 2,
        repeat: 4,
      },
    ]);
    const stream = tight.llm.chatStream({ messages: USER });
    const error: LlmIncompleteStreamError = await failureOf(() => collect(stream));
    expect(error).toBeInstanceOf(LlmIncompleteStreamError);
    expect(error).toMatchObject({ kind: 'incomplete_stream', partialText: 'partial answer ' });
    // Ended by the 100 ms idle timeout, not by the attempt or total timeout a stall also meets.
    expect(error.message).toContain('idle timeout');
    expect(error.message).not.toMatch(/attempt timeout|deadline/);
    // Never retried once content was delivered: the attempt that delivered it was the last.
    expect(sim.requests).toHaveLength(error.attempts);
    // The attempts before it (if any) ended on the first-chunk timeout, before any content.
    const call = await eventually(() => recorder.calls[0] ?? false);
    expect(call.attempts.slice(0, -1).every((a) => a.errorKind === 'timeout')).toBe(true);
  });

  it('a connection cut mid-stream ends with incomplete_stream, never a clean end', async () => {
    sim.script([
      { type: 'stream', chunks: ['one ', 'two ', 'three'], cutAfter: 2 },
      { type: 'ok' },
    ]);
    const error: LlmIncompleteStreamError = await failureOf(() =>
      collect(t.llm.chatStream({ messages: USER })),
    );
    expect(error.kind).toBe('incomplete_stream');
    expect(error.partialText).toBe('one two ');
    expect(sim.requests).toHaveLength(1);
  });

  it('keeps at most MAX_RECEIVED_TEXT characters of the text, yet delivers and counts every one', async () => {
    const piece = 'z'.repeat(8192);
    const pieces = Math.ceil(MAX_RECEIVED_TEXT / piece.length) + 12; // 140, cut after 138
    sim.script([
      { type: 'stream', chunks: Array<string>(pieces).fill(piece), cutAfter: pieces - 2 },
    ]);
    const stream = t.llm.chatStream({ messages: USER });
    let delivered = 0;
    const error: LlmIncompleteStreamError = await failureOf(async () => {
      for await (const chunk of stream) delivered += chunk.choices[0]?.delta.content?.length ?? 0;
    });
    expect(delivered).toBe((pieces - 2) * piece.length);
    expect(error.kind).toBe('incomplete_stream');
    expect(error.partialText).toHaveLength(MAX_RECEIVED_TEXT);
    expect(stream.receivedText).toHaveLength(MAX_RECEIVED_TEXT);
    expect(error.message).toContain(`${(pieces - 2) * piece.length} characters arrived`);
  });

  it('an upstream sending chunks without content holds at most MAX_HEAD_CHARS of them, then fails the attempt', async () => {
    // About 150 characters per empty delta: past MAX_HEAD_CHARS long before the content.
    const emptyDeltas = Math.ceil(MAX_HEAD_CHARS / 100);
    sim.script([{ type: 'stream', emptyDeltas, chunks: ['never read'], repeat: 10 }]);
    const error: LlmError = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
    expect(error.kind).toBe('invalid_response');
    expect(error.message).toContain(
      `more than ${MAX_HEAD_CHARS} characters of chunks without any content`,
    );
    // Retried like any failure before content (invalid_response is retryable), every attempt cut short.
    expect(sim.requests.length).toBeGreaterThan(1);
    expect(error.attempts).toBe(sim.requests.length);
  });

  it('an error status before content is classified and retried like a plain call', async () => {
    sim.script([{ type: 'error', status: 401 }]);
    const error: LlmError = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
    expect(error).toMatchObject({ kind: 'auth', status: 401, attempts: 1 });
  });

  it('breaking out of the loop aborts the upstream request', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b', 'c', 'd', 'e', 'f'], delayMs: 40 }]);
    const stream = t.llm.chatStream({ messages: USER });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content === 'b') break;
    }
    // The bulkhead slot is free again: a full bulkhead of 1 would otherwise reject this call.
    sim.script([{ type: 'ok', content: 'next' }]);
    const { completion } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('next');
  });

  it('the caller aborting mid-stream ends it with cancelled', async () => {
    sim.script([{ type: 'stream', chunks: ['x', 'y', 'z'], delayMs: 50 }]);
    const controller = new AbortController();
    const stream = t.llm.chatStream({ messages: USER }, { signal: controller.signal });
    const seen: string[] = [];
    const error: LlmError = await failureOf(async () => {
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta.content ?? '');
        if (seen.includes('x')) controller.abort();
      }
    });
    expect(error.kind).toBe('cancelled');
  });
});

describe('streaming holds its bulkhead slot until it ends', () => {
  it('a second stream waits in the queue while the first one runs', async () => {
    const sim = await UpstreamSimulator.start();
    const t = await startLlmApp(sim.baseUrl, { bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    try {
      sim.script([{ type: 'stream', chunks: ['slow', ' one'], delayMs: 100 }]);
      const first = t.llm.chatStream({ messages: USER });
      await first.ready();
      const error: LlmError = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(error.kind).toBe('bulkhead_full');
      expect(await collect(first)).toBe('slow one');
      await expect(t.llm.chat({ messages: USER })).resolves.toBeDefined();
    } finally {
      await t.close();
      await sim.close();
    }
  });

  it('a stream held past its deadline ends as deadline_exceeded and frees its slot', async () => {
    const sim = await UpstreamSimulator.start();
    const t = await startLlmApp(sim.baseUrl, { bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    const recorder = recordCalls(t.app);
    try {
      sim.script([
        { type: 'stream', chunks: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], delayMs: 100 },
      ]);
      const held = t.llm.chatStream({ messages: USER }, { deadlineMs: 400 });
      await held.ready();
      // Not read on: the deadline, not the consumer, ends the call.
      const call = await eventually(() => recorder.calls[0] ?? false);
      expect(call.error?.kind).toBe('deadline_exceeded');
      sim.script([{ type: 'ok', content: 'next' }]);
      const { completion } = await t.llm.chat({ messages: USER });
      expect(completion.choices[0]?.message.content).toBe('next');
      // What the consumer reads after its deadline is not a clean end.
      await expect(collect(held)).rejects.toBeDefined();
    } finally {
      await t.close();
      await sim.close();
    }
  });

  it.each([
    // Then an exception, say, before the loop: never read, and still readable (late).
    ['never read', (_stream: LlmChatStream) => undefined, true],
    // Readable.from(stream) makes the iterator at once; a return() before any next() runs no finally.
    [
      'iterated by an iterator never stepped',
      (stream: LlmChatStream) => void stream[Symbol.asyncIterator](),
      false,
    ],
    [
      'returned before its first step',
      (stream: LlmChatStream) => void stream[Symbol.asyncIterator]().return?.(undefined),
      false,
    ],
  ])(
    'a stream started (ready()) and %s frees its slot at its idle timeout, not its deadline',
    async (_, use, readableLate) => {
      const sim = await UpstreamSimulator.start();
      const t = await startLlmApp(sim.baseUrl, {
        bulkhead: { maxConcurrent: 1, maxQueue: 0 },
        timeouts: { attemptMs: 5000, deadlineMs: 10_000, firstChunkMs: 2000, idleMs: 150 },
      });
      const recorder = recordCalls(t.app);
      try {
        sim.script([{ type: 'stream', chunks: ['a', 'b'] }]);
        const abandoned = t.llm.chatStream({ messages: USER });
        await abandoned.ready();
        use(abandoned);
        const call = await eventually(() => recorder.calls[0] ?? false);
        // Before: held until the 10 s deadline, every other call refused with bulkhead_full.
        expect(call.error?.kind).toBe('cancelled');
        expect(call.endedAt! - call.startedAt).toBeLessThan(2000);
        sim.script([{ type: 'ok', content: 'next' }]);
        const { completion } = await t.llm.chat({ messages: USER });
        expect(completion.choices[0]?.message.content).toBe('next');
        if (readableLate) {
          // Read late, it says why it ended.
          const late = await failureOf(() => collect(abandoned));
          expect(late.message).toContain('not read within the idle timeout');
        }
        // The abandoned call is reported once.
        expect(recorder.calls).toHaveLength(2);
      } finally {
        await t.close();
        await sim.close();
      }
    },
  );
});

describe('cancel() ends a stream that will not be read, or no more', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  let recorder: CallRecorder;
  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
    // The idle timeout (30 s by default) is far: what frees the slot is the cancel, not a timer.
    t = await startLlmApp(sim.baseUrl, { bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    recorder = recordCalls(t.app);
  });
  afterEach(async () => {
    await t.close();
    await sim.close();
  });

  /** The one slot is free: a plain call goes through instead of failing as bulkhead_full. */
  async function expectSlotFree(): Promise<void> {
    sim.script([{ type: 'ok', content: 'next' }]);
    const { completion } = await t.llm.chat({ messages: USER });
    expect(completion.choices[0]?.message.content).toBe('next');
  }

  it('after ready(): the call ends as cancelled when cancel() resolves, and its slot is free', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b'] }]);
    const stream = t.llm.chatStream({ messages: USER });
    await stream.ready();
    await stream.cancel();
    expect(recorder.calls.map((call) => call.error?.kind)).toEqual(['cancelled']);
    await expectSlotFree();
    // Read after all, it says why it ended; a second cancel() does nothing.
    const late = await failureOf(() => collect(stream));
    expect(late).toMatchObject({ kind: 'cancelled' });
    expect(late.message).toContain('cancel()');
    await stream.cancel();
    expect(recorder.calls).toHaveLength(2);
  });

  it("after ready(): its iterator's return() before a first next() frees the slot at once", async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b'] }]);
    const stream = t.llm.chatStream({ messages: USER });
    await stream.ready();
    await stream[Symbol.asyncIterator]().return?.(undefined);
    expect(recorder.calls.map((call) => call.error?.kind)).toEqual(['cancelled']);
    await expectSlotFree();
  });

  it('while a loop reads it: the loop fails with cancelled at its next step, the request is closed', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b', 'c', 'd', 'e', 'f'], delayMs: 50 }]);
    const stream = t.llm.chatStream({ messages: USER });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta.content ?? '');
        if (seen.length === 1) void stream.cancel();
      }
    })();
    const error = await failureOf(() => reading);
    expect(error).toMatchObject({ kind: 'cancelled' });
    // The chunk in hand when cancel() came, and no other: the next step failed.
    expect(seen).toHaveLength(1);
    await eventually(() => recorder.calls[0] ?? false);
    expect(recorder.calls[0]?.error?.kind).toBe('cancelled');
    await expectSlotFree();
  });

  it('while it starts (its first attempt hangs): the start ends at once, nothing is retried, the slot is free', async () => {
    sim.script([{ type: 'hang' }]);
    const stream = t.llm.chatStream({ messages: USER });
    const seen: string[] = [];
    const reading = failureOf(async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    });
    await eventually(() => sim.requests.length === 1, { what: 'the first attempt' });
    await stream.cancel();
    expect(await reading).toMatchObject({ kind: 'cancelled' });
    expect(seen).toEqual([]);
    // No retry went after the cancel: the attempt timeout (1 s) and its retry never came.
    expect(recorder.calls.map((call) => call.error?.kind)).toEqual(['cancelled']);
    // The aborted request gives its slot back as it unwinds, a few ticks after the call ended.
    await eventually(() => t.policies.bulkhead({ name: 'sim' } as never).executionSlots === 1, {
      what: 'the slot back',
    });
    await expectSlotFree();
    expect(sim.requests).toHaveLength(2); // the hang, then expectSlotFree's own call
  });

  it('before it started: nothing is sent, and ready() fails with cancelled', async () => {
    const stream = t.llm.chatStream({ messages: USER });
    await stream.cancel();
    await expect(stream.ready()).rejects.toMatchObject({ kind: 'cancelled' });
    await expect(collect(stream)).rejects.toMatchObject({ kind: 'cancelled' });
    expect(sim.requests).toHaveLength(0);
    expect(recorder.calls).toHaveLength(0);
  });
});

describe('keep-alive after streams', () => {
  it('a finished stream gives its socket back: three streams share one connection', async () => {
    // A minimal upstream that counts TCP connections, which the simulator does not expose.
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunkEvent('c1', { content: 'hi' }) + chunkEvent('c1', {}, 'stop'));
        res.write('data: [DONE]\n\n');
        // The end of the chunked body comes a moment later, as it may from a real provider.
        setTimeout(() => res.end(), 20);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const t = await startLlmApp(`http://127.0.0.1:${port}/v1`);
    try {
      for (let i = 0; i < 3; i++)
        expect(await collect(t.llm.chatStream({ messages: USER }))).toBe('hi');
      expect(connections).toBe(1);
    } finally {
      await t.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('keep-alive comments after content', () => {
  it('do not hold off the idle timeout: a stream that only pings after content ends as idle', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunkEvent('c1', { content: 'hi' }));
        const ping = setInterval(() => res.write(': ping\n\n'), 50);
        res.on('close', () => clearInterval(ping));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const t = await startLlmApp(`http://127.0.0.1:${port}/v1`, {
      retry: { maxRetries: 0 },
      timeouts: { attemptMs: 5000, deadlineMs: 5000, firstChunkMs: 2000, idleMs: 300 },
    });
    try {
      const startedAt = performance.now();
      const error = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
      expect(error.message).toContain('idle timeout');
      // Before: each ping restarted the timer, and the 5 s deadline ended it.
      expect(performance.now() - startedAt).toBeLessThan(2000);
    } finally {
      await t.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the consumer's own pace", () => {
  let server: http.Server;
  let t: LlmTestApp;
  /** How long the upstream keeps the body open after [DONE]. */
  let endAfterMs = 0;

  beforeAll(async () => {
    // The whole answer at once, then [DONE].
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const content of ['a', 'b', 'c']) res.write(chunkEvent('c1', { content }));
        res.write(`${chunkEvent('c1', {}, 'stop')}data: [DONE]\n\n`);
        const end = setTimeout(() => res.end(), endAfterMs);
        res.on('close', () => clearTimeout(end));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startLlmApp(`http://127.0.0.1:${port}/v1`, {
      retry: { maxRetries: 0 },
      timeouts: { attemptMs: 5000, deadlineMs: 10_000, firstChunkMs: 2000, idleMs: 100 },
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a consumer slower than the idle timeout still gets the whole answer: the upstream was not silent', async () => {
    endAfterMs = 0;
    let text = '';
    for await (const chunk of t.llm.chatStream({ messages: USER })) {
      text += chunk.choices[0]?.delta.content ?? '';
      await sleep(250); // 2.5 × the idle timeout per chunk
    }
    expect(text).toBe('abc');
  });

  it('the end comes at [DONE], not after the drain of a body the server keeps open', async () => {
    const timed = async (holdMs: number): Promise<number> => {
      endAfterMs = holdMs;
      const startedAt = performance.now();
      expect(await collect(t.llm.chatStream({ messages: USER }))).toBe('abc');
      return performance.now() - startedAt;
    };
    // Beside a body that ends with [DONE], measured here: the one held open ends as soon, give or
    // take the inline wait (50 ms). Before: the drain's whole second (1,000 ms) more.
    const prompt = await timed(0);
    const held = await timed(3000);
    expect(held - prompt).toBeLessThan(500);
  });
});

describe('an error event in the stream, before any content', () => {
  let server: http.Server;
  let t: LlmTestApp;
  let event = '';
  let requests = 0;
  /** How the upstream answers: an SSE event, or the event's JSON as a plain 200 JSON body. */
  let contentType = 'text/event-stream';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(contentType.includes('json') ? event : `data: ${event}\n\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startLlmApp(`http://127.0.0.1:${port}/v1`, {
      retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 10 },
    });
  });
  beforeEach(() => (requests = 0));
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    [
      'context_length_exceeded',
      {
        message: 'This model maximum context length is 8192 tokens.',
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
      },
      'context_length_exceeded',
      1,
    ],
    [
      'an invalid request',
      { message: 'bad', type: 'invalid_request_error', param: 'messages' },
      'bad_request',
      1,
    ],
    [
      "vLLM's numeric code 400",
      { object: 'error', message: 'nope', type: 'BadRequestError', code: 400 },
      'bad_request',
      1,
    ],
    [
      'insufficient_quota',
      { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' },
      'quota_exceeded',
      1,
    ],
    [
      "LiteLLM's string code '400'",
      { message: 'litellm.BadRequestError', code: '400' },
      'bad_request',
      1,
    ],
    ["a string code '401'", { message: 'AuthenticationError', code: '401' }, 'auth', 1],
    ['a server error', { message: 'oops', type: 'server_error' }, 'server_error', 3],
  ] as const)('%s is classified as its response would be', async (_, error, kind, attempts) => {
    event = JSON.stringify({ error });
    const failure = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
    expect(failure).toMatchObject({ kind });
    expect(failure.message).toContain('sent an error event in the stream');
    // Before: every error event was a server error, retried and counted by the breaker.
    expect(requests).toBe(attempts);
  });

  it("a 200 with a JSON error, to a stream request or a plain one, carries the provider's words", async () => {
    contentType = 'application/json';
    event = JSON.stringify({
      error: { message: 'Model overloaded, try later', code: 'invalid_request_error' },
    });
    try {
      const streamed = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
      expect(streamed).toMatchObject({ kind: 'bad_request' });
      expect(streamed.message).toContain('Model overloaded, try later');
      const plain = await failureOf(() => t.llm.chat({ messages: USER }));
      expect(plain).toMatchObject({ kind: 'bad_request' });
      expect(plain.message).toContain('answered 200 with an error');
      expect(plain.message).toContain('Model overloaded, try later');
      expect(requests).toBe(2);
    } finally {
      contentType = 'text/event-stream';
    }
  });

  it('reads a media type in any letter case (Text/Event-Stream)', async () => {
    contentType = 'Text/Event-Stream; charset=utf-8';
    event = JSON.stringify({ error: { message: 'bad', type: 'invalid_request_error' } });
    try {
      const failure = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
      // Read as a stream (its error event), not refused as another media type.
      expect(failure.message).toContain('sent an error event in the stream');
    } finally {
      contentType = 'text/event-stream';
    }
  });
});

describe('streams whose body ends without [DONE]', () => {
  let server: http.Server;
  let t: LlmTestApp;
  /** Whether the upstream's last chunk says why the choice finished. */
  let finishes = true;
  /** A second choice (`n: 2`) that never says why it finished. */
  let secondChoice = false;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm' };
        for (const content of ['a', 'b']) {
          const choice = { index: 0, delta: { content }, finish_reason: null };
          res.write(`data: ${JSON.stringify({ ...chunk, choices: [choice] })}\n\n`);
        }
        if (secondChoice) {
          const choice = { index: 1, delta: { content: 'B' }, finish_reason: null };
          res.write(`data: ${JSON.stringify({ ...chunk, choices: [choice] })}\n\n`);
        }
        if (finishes) {
          const choice = { index: 0, delta: {}, finish_reason: 'stop' };
          res.write(`data: ${JSON.stringify({ ...chunk, choices: [choice] })}\n\n`);
        }
        res.end(); // a clean end of the body, no [DONE]
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startLlmApp(`http://127.0.0.1:${port}/v1`, { retry: { maxRetries: 0 } });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is complete when every choice said why it finished', async () => {
    finishes = true;
    expect(await collect(t.llm.chatStream({ messages: USER }))).toBe('ab');
  });

  it('is incomplete when one of two choices finished and the other did not', async () => {
    finishes = true;
    secondChoice = true;
    try {
      const error = await failureOf(() => collect(t.llm.chatStream({ messages: USER, n: 2 })));
      expect(error).toBeInstanceOf(LlmIncompleteStreamError);
      expect(error.message).toContain('closed the stream before it finished');
    } finally {
      secondChoice = false;
    }
  });

  it('is incomplete when a choice asked for (n: 2) never came', async () => {
    finishes = true;
    const error = await failureOf(() => collect(t.llm.chatStream({ messages: USER, n: 2 })));
    expect(error).toBeInstanceOf(LlmIncompleteStreamError);
  });

  it('is incomplete, with the text so far, when no choice finished', async () => {
    finishes = false;
    const error = await failureOf(() => collect(t.llm.chatStream({ messages: USER })));
    expect(error).toBeInstanceOf(LlmIncompleteStreamError);
    expect(error.message).toContain('closed the stream before it finished');
    expect((error as LlmIncompleteStreamError).partialText).toBe('ab');
  });
});
