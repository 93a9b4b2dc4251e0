// First: starts OpenTelemetry before Nest and the HTTP transport load (see src/main.ts).
import { gatewayTelemetry } from '../gateway/telemetry.start';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadGatewayConfig } from '../gateway/gateway.config';
import { LlmJobsTransport } from './llm-jobs.transport';
import { WorkerModule } from './worker.module';

/**
 * `npm run worker`: a Nest microservice that runs durable LLM jobs from RABBITMQ_URL with states in REDIS_URL, calling the
 * upstream of LLM_BASE_URL with the gateway's variables (LLM_RPM, LLM_MAX_CONCURRENCY, ...). Run
 * as many as the provider's limits make worth it: they share the limiter through Redis.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Worker');
  const config = loadGatewayConfig(process.env);
  if (!config.llm.baseUrl || !config.jobs) {
    throw new Error(
      'The worker needs LLM_BASE_URL (the upstream), RABBITMQ_URL (the jobs) and REDIS_URL (their states).',
    );
  }
  // A Nest microservice whose transport is the jobs queue (see LlmJobsTransport).
  const app = await NestFactory.createMicroservice(WorkerModule.forRoot(config), {
    strategy: new LlmJobsTransport(),
    abortOnError: false,
  });
  await app.listen();
  logger.log(`Worker running jobs against ${config.llm.baseUrl}`);
  const close = (signal: NodeJS.Signals) => {
    // Jobs in flight go back to the queue (unacked); another worker runs them.
    void app
      .close()
      .catch((error: unknown) => logger.error(`Shutdown failed: ${String(error)}`))
      .then(() => gatewayTelemetry.shutdown())
      .finally(() => process.kill(process.pid, signal));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, close);
}

bootstrap().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
  await gatewayTelemetry.shutdown();
});
