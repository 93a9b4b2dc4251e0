import { type CustomTransportStrategy, Server } from '@nestjs/microservices';

/**
 * The Nest microservice transport of `npm run worker`. The jobs' consumer is LlmJobWorker, which
 * starts with the application and keeps what Nest's RMQ transport does not give: publisher
 * confirms for delays and dead letters, an ack only after the outcome is stored, a prefetch
 * bounded by the bulkhead. This strategy gives the worker Nest's microservice lifecycle
 * (`createMicroservice`, `listen`, `close`) and carries no message patterns of its own.
 *
 * @example
 * const app = await NestFactory.createMicroservice(WorkerModule.forRoot(config), {
 *   strategy: new LlmJobsTransport(),
 * });
 * await app.listen();
 */
export class LlmJobsTransport extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }

  close(): void {
    // The worker's connections close with the application (LlmJobsRuntime's shutdown hook).
  }

  on(): never {
    throw new Error('LlmJobsTransport has no events: jobs are consumed by LlmJobWorker.');
  }

  unwrap<T>(): T {
    throw new Error(
      'LlmJobsTransport wraps no client: the broker connection is LlmJobsRuntime.broker.',
    );
  }
}
