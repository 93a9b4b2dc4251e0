import { loadGatewayConfig } from './gateway.config';

const BASE = { LLM_BASE_URL: 'http://127.0.0.1:4010/v1' };

describe('gateway jobs configuration (RABBITMQ_URL, LLM_JOBS_*)', () => {
  it('leaves jobs off without RABBITMQ_URL', () => {
    expect(loadGatewayConfig(BASE).jobs).toBeUndefined();
  });

  it('turns jobs on with RABBITMQ_URL and REDIS_URL, with a worker by default', () => {
    const config = loadGatewayConfig({
      ...BASE,
      RABBITMQ_URL: 'amqp://llm:llm@rabbitmq:5672',
      REDIS_URL: 'redis://redis:6379',
      LLM_JOBS_QUEUE: 'writer.jobs',
      LLM_JOBS_HOLD_MS: '30000',
    });
    expect(config.jobs).toEqual({
      rabbitmqUrl: 'amqp://llm:llm@rabbitmq:5672',
      queue: 'writer.jobs',
      worker: true,
      holdMs: 30_000,
    });
  });

  it('needs REDIS_URL, an amqp URL, and RABBITMQ_URL for any LLM_JOBS_* variable', () => {
    expect(() => loadGatewayConfig({ ...BASE, RABBITMQ_URL: 'amqp://localhost' })).toThrow(
      /RABBITMQ_URL needs REDIS_URL/,
    );
    expect(() =>
      loadGatewayConfig({ ...BASE, RABBITMQ_URL: 'http://x', REDIS_URL: 'redis://r' }),
    ).toThrow(/RABBITMQ_URL must be an amqp/);
    expect(() => loadGatewayConfig({ ...BASE, LLM_JOBS_WORKER: 'false' })).toThrow(
      /LLM_JOBS_\* variables need RABBITMQ_URL/,
    );
  });
});
