import { LLM_DEFAULTS } from '../options/llm.defaults';
import { LlmJobsOptionsError, resolveLlmJobsOptions } from './llm-jobs-options.resolver';

const VALID = { rabbitmqUrl: 'amqp://localhost:5672', redis: { url: 'redis://localhost:6379' } };

describe('resolveLlmJobsOptions', () => {
  it('applies the defaults', () => {
    expect(resolveLlmJobsOptions(VALID)).toEqual({ ...VALID, ...LLM_DEFAULTS.jobs });
  });

  it('names every bad field, and never quotes the broker URL', () => {
    let error: unknown;
    try {
      resolveLlmJobsOptions({
        rabbitmqUrl: 'http://user:secret@host',
        redis: {} as { url: string },
        maxDeliveries: 0,
        holdMs: 10,
        defaultDeadlineMs: 10_000,
        maxDeadlineMs: 5_000,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LlmJobsOptionsError);
    const message = (error as Error).message;
    for (const field of ['rabbitmqUrl', 'redis', 'maxDeliveries', 'holdMs', 'defaultDeadlineMs']) {
      expect(message).toContain(field);
    }
    expect(message).not.toContain('secret');
  });

  it('refuses an unknown key with a "did you mean"', () => {
    expect(() => resolveLlmJobsOptions({ ...VALID, maxDelivery: 3 } as never)).toThrow(
      'maxDelivery is not an option; did you mean maxDeliveries?',
    );
  });
});
