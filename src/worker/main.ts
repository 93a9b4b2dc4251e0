// First: starts OpenTelemetry before Nest and the HTTP transport load (see src/main.ts).
import { gatewayTelemetry } from '../gateway/telemetry.start';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, type Server } from 'node:http';
import { EnvReader } from '../gateway/env.reader';
import { loadGatewayConfig } from '../gateway/gateway.config';
import { prometheusExporter } from '../gateway/prometheus-exporter';
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
  const read = new EnvReader(process.env);
  const metricsPort = read.wholeNumber('WORKER_METRICS_PORT', { min: 0, max: 65_535 }) ?? 9464;
  read.throwIfInvalid();
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
  // Before the jobs: a port taken fails the boot before any job is taken.
  const metrics = await serveMetrics(metricsPort, config.host).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  await app.listen();
  logger.log(`Worker running jobs against ${config.llm.baseUrl}`);
  logger.log(`Metrics on http://${config.host}:${portOf(metrics)}/metrics`);
  const close = (signal: NodeJS.Signals) => {
    metrics.close();
    // Jobs in flight go back to the queue (unacked); another worker runs them.
    void app
      .close()
      .catch((error: unknown) => logger.error(`Shutdown failed: ${String(error)}`))
      .then(() => gatewayTelemetry.shutdown())
      .finally(() => process.kill(process.pid, signal));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, close);
}

/**
 * The worker's `GET /metrics` (it has no HTTP server of its own): the same Prometheus reader the
 * gateway serves on its port, here on WORKER_METRICS_PORT (9464, the OpenTelemetry Prometheus
 * exporter's default), so its calls, breakers, limiter and jobs can be scraped.
 */
function serveMetrics(port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      prometheusExporter.getMetricsRequestHandler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

bootstrap().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
  await gatewayTelemetry.shutdown();
});
