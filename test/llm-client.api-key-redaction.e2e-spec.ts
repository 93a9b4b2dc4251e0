import { Logger } from '@nestjs/common';
import { inspect } from 'node:util';
import { currentLlmContext, runWithLlmContext } from '../src/llm/observability/llm-context.storage';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, startLlmApp, TEST_API_KEY, USER } from './support/llm-test-app';

/** Captures everything written to stdout and stderr while `fn` runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const written: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  const capture = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    await fn();
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
  return written.join('');
}

/** Every way an error can be shown: message, JSON, and a deep inspect with its cause chain. */
function renderings(error: unknown): string {
  return [
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
  ].join('\n');
}

describe('the API key never appears in errors or output', () => {
  it('holds across auth failures, echoing providers, network errors and broken streams', async () => {
    const sim = await UpstreamSimulator.start({
      apiKey: 'sk-the-upstream-expects-another-key-0000',
    });
    const errors: unknown[] = [];
    const output = await captureOutput(async () => {
      const t = await startLlmApp(sim.baseUrl, {
        retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
      });
      try {
        // 1. The upstream rejects the key.
        errors.push(await failureOf(() => t.llm.chat({ messages: USER })));
        sim.configure({ apiKey: undefined });
        // 2. A provider that echoes the key (whole and masked) in its error message.
        const masked = `${TEST_API_KEY.slice(0, 8)}*****${TEST_API_KEY.slice(-4)}`;
        sim.script([
          { type: 'error', status: 401, message: `Incorrect API key provided: ${TEST_API_KEY}.` },
          { type: 'error', status: 400, message: `Key ${masked} cannot use this model` },
          {
            type: 'error',
            status: 500,
            body: `<html>upstream proxy: Authorization: Bearer ${TEST_API_KEY}</html>`,
          },
          {
            type: 'error',
            status: 500,
            body: `<html>upstream proxy: Authorization: Bearer ${TEST_API_KEY}</html>`,
          },
        ]);
        for (let i = 0; i < 3; i++)
          errors.push(await failureOf(() => t.llm.chat({ messages: USER })));
        // 3. A stream that fails after content.
        sim.script([{ type: 'stream', chunks: ['a', 'b', 'c'], cutAfter: 1 }]);
        errors.push(
          await failureOf(async () => {
            for await (const chunk of t.llm.chatStream({ messages: USER })) void chunk;
          }),
        );
      } finally {
        await t.close();
      }
      // 4. Network errors: axios errors carry the request config, Authorization included.
      await sim.close();
      const dead = await startLlmApp(sim.baseUrl, { retry: { maxRetries: 0 } });
      try {
        errors.push(await failureOf(() => dead.llm.chat({ messages: USER })));
      } finally {
        await dead.close();
      }
      // Log them the ways an application would: Nest's logger and a deep inspect to stderr.
      const logger = new Logger('App');
      for (const error of errors) {
        logger.error(error);
        process.stderr.write(inspect(error, { depth: 10 }) + '\n');
      }
    });

    expect(errors.map((e) => (e as LlmError).kind)).toEqual([
      'auth',
      'auth',
      'bad_request',
      'server_error',
      'incomplete_stream',
      'network',
    ]);
    expect(output.length).toBeGreaterThan(500); // the errors really were printed
    expect(output).toContain('LLM_AUTH');
    for (const text of [output, ...errors.map(renderings)]) {
      expect(text).not.toContain(TEST_API_KEY);
      expect(text).not.toContain(TEST_API_KEY.slice(-12));
    }
  });

  it('holds for the call objects handed to application code: lastResort and the request context', async () => {
    const sim = await UpstreamSimulator.start();
    const seen: string[] = [];
    const t = await startLlmApp(
      sim.baseUrl,
      {
        retry: { maxRetries: 0 },
        headers: { 'api-key': 'azure-style-secret-0123456789' },
        fallbacks: {},
      },
      {
        lastResort: ({ call }) => {
          seen.push(
            JSON.stringify(call),
            inspect(call, { depth: 10 }),
            JSON.stringify({ ...call.upstream }),
          );
          return {
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: 'm',
            choices: [],
          } as never;
        },
      },
    );
    try {
      sim.script([{ type: 'error', status: 503 }]);
      await runWithLlmContext({ requestId: 'r1' }, async () => {
        await t.llm.chat({ messages: USER });
        seen.push(JSON.stringify(currentLlmContext()), inspect(currentLlmContext(), { depth: 10 }));
      });
    } finally {
      await t.close();
      await sim.close();
    }
    expect(seen).toHaveLength(5);
    expect(seen[0]).toContain('"upstream"');
    for (const text of seen) {
      expect(text).not.toContain(TEST_API_KEY);
      expect(text).not.toContain('azure-style-secret');
    }
  });

  it('holds for credentials given in headers, echoed by the upstream, and for a deep inspect of the client', async () => {
    const sim = await UpstreamSimulator.start();
    const token = 'Tok7f3a9b2c4d5e6f7a8b9cQ';
    const errors: unknown[] = [];
    const t = await startLlmApp(
      sim.baseUrl,
      {
        retry: { maxRetries: 0 },
        headers: { 'x-custom-auth': token, 'x-tenant': 'acme', 'x-portkey-provider': 'openai' },
      },
      { events: { log: true } },
    );
    const output = await captureOutput(async () => {
      try {
        sim.script([
          {
            type: 'error',
            status: 400,
            message: `header x-custom-auth=${token} not allowed, see platform.openai.com`,
          },
          { type: 'stream', chunks: ['a', 'b'], cutAfter: 1 },
        ]);
        errors.push(await failureOf(() => t.llm.chat({ messages: USER })));
        errors.push(
          await failureOf(async () => {
            for await (const chunk of t.llm.chatStream({ messages: USER })) void chunk;
          }),
        );
        process.stdout.write(inspect(t.llm, { depth: Infinity }) + '\n');
        // With hidden properties and getters' values too, as a debugging session would print it.
        process.stdout.write(
          inspect(t.llm, { depth: Infinity, showHidden: true, getters: true }) + '\n',
        );
        await new Promise((resolve) => setTimeout(resolve, 20)); // the event lines of the turn
      } finally {
        await t.close();
        await sim.close();
      }
    });
    expect((errors[0] as LlmError).message).toContain('header x-custom-auth=*** not allowed');
    // A routing header whose name holds "key" inside a word is no credential: not masked.
    expect((errors[0] as LlmError).message).toContain('see platform.openai.com');
    expect(sim.requests[0]?.headers['x-tenant']).toBe('acme');
    expect(output).toContain('LlmHttpTransport'); // the client was inspected all the way down
    for (const text of [output, ...errors.map(renderings)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(TEST_API_KEY);
    }
  });
});
