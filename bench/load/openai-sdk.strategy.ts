import OpenAI from 'openai';
import { VERSION } from 'openai/version';
import { BENCH_API_KEY, BENCH_MODEL } from '../support/bench-module.options';
import { LOAD_MESSAGES, type LoadStrategy, UpstreamTally } from './load-strategy';

/**
 * (d) The official openai SDK with its defaults: 2 retries of 429, 408, 409, 5xx and connection
 * errors, `retry-after-ms` / `retry-after` honoured, else 0.5 s × 2^n (up to 8 s) minus up to
 * 25 % jitter. Its delays are built in, in real time: the compression does not apply to them.
 */
export function openAiSdkStrategy(baseUrl: string): LoadStrategy {
  const tally = new UpstreamTally();
  // Counts every attempt the SDK makes, retries included, as the upstream sees them.
  const countingFetch: typeof fetch = async (input, init) => {
    try {
      const response = await fetch(input, init);
      tally.count(response.status);
      return response;
    } catch (error) {
      tally.count('network');
      throw error;
    }
  };
  const client = new OpenAI({ apiKey: BENCH_API_KEY, baseURL: baseUrl, fetch: countingFetch });
  return {
    id: 'openai-sdk',
    label: 'openai SDK',
    description: `openai ${VERSION} with its defaults: maxRetries 2, server hints honoured`,
    tally,
    send: async () => {
      try {
        await client.chat.completions.create({ model: BENCH_MODEL, messages: LOAD_MESSAGES });
        return { ok: true };
      } catch (error) {
        if (error instanceof OpenAI.APIError && error.status) {
          return { ok: false, failure: `http ${error.status}` };
        }
        return { ok: false, failure: error instanceof Error ? error.name : 'error' };
      }
    },
    close: () => Promise.resolve(),
  };
}
