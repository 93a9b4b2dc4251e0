import { type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LlmClient } from '../../src/llm/client/llm-client';
import { LlmModule } from '../../src/llm/llm.module';
import {
  type LlmModuleOptions,
  type LlmPolicyOptions,
  type LlmUpstreamOptions,
} from '../../src/llm/llm-module.options';
import { type LlmError } from '../../src/llm/resilience/llm.errors';
import { UpstreamPoliciesRegistry } from '../../src/llm/resilience/upstream-policies.registry';

/** A key shaped like a real one, so redaction is tested against what providers really issue. */
export const TEST_API_KEY = 'sk-proj-TESTKEY0123456789abcdefSECRET';

/** Short delays so timing tests take milliseconds, with the shape of the real defaults. */
export const FAST_POLICIES: LlmPolicyOptions = {
  retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxServerHintMs: 500 },
  breaker: { consecutiveFailures: 50, maxBreakMs: 200 },
  bulkhead: { maxConcurrent: 16, maxQueue: 16 },
  timeouts: { connectMs: 500, attemptMs: 1000, deadlineMs: 3000, firstChunkMs: 500, idleMs: 500 },
};

export interface LlmTestApp {
  app: INestApplicationContext;
  llm: LlmClient;
  policies: UpstreamPoliciesRegistry;
  close(): Promise<void>;
}

/** Boots LlmModule for real (Nest DI, axios transport) against one upstream, usually the simulator. */
export async function startLlmApp(
  baseUrl: string,
  overrides: Partial<LlmUpstreamOptions> = {},
  moduleOptions: Partial<LlmModuleOptions> = {},
): Promise<LlmTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      LlmModule.forRoot({
        upstreams: [
          {
            name: 'sim',
            baseUrl,
            apiKey: TEST_API_KEY,
            defaultModel: 'gpt-4o-mini',
            ...FAST_POLICIES,
            ...overrides,
          },
        ],
        ...moduleOptions,
      }),
    ],
  }).compile();
  const app = await moduleRef.init();
  return {
    app,
    llm: app.get(LlmClient),
    policies: app.get(UpstreamPoliciesRegistry),
    close: () => app.close(),
  };
}

/**
 * Runs `fn` and returns the error it rejects with (fails the test when it resolves). The type is
 * the caller's claim; the tests assert on `kind` and class, which checks it.
 */
export async function failureOf<E = LlmError>(fn: () => Promise<unknown>): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export const USER = [{ role: 'user', content: 'Hello there' }];
