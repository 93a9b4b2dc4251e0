import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { AppModule } from '../app.module';
import type { UpstreamSimulator } from '../simulator/upstream-simulator';
import type { GatewayConfig } from './gateway.config';
import { GATEWAY_BODY_LIMIT } from './gateway.constants';
import { inboundGuard } from './inbound-guard.middleware';
import { SafeConsoleLogger } from './safe-console.logger';

/** Options of {@link createGatewayApp}. */
export interface GatewayAppOptions {
  /** Nest's logger setting; tests pass `false`. @default SafeConsoleLogger (control characters escaped) */
  logger?: NestApplicationOptions['logger'];
  /** A built-in simulator serving as upstream, closed with the app. */
  simulator?: UpstreamSimulator;
}

/**
 * Builds the gateway's Nest app, initialised but not listening: `main.ts` listens on the
 * configured port, tests on port 0.
 *
 * @example
 * const app = await createGatewayApp(loadGatewayConfig({ LLM_BASE_URL: sim.baseUrl }), { logger: false });
 * await app.listen(0, '127.0.0.1');
 * const url = await app.getUrl();
 */
export async function createGatewayApp(
  config: GatewayConfig,
  options: GatewayAppOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, { simulator: options.simulator }),
    {
      // Errors reach the caller instead of Nest exiting the process (tests boot apps in-process).
      abortOnError: false,
      // No default parsers: Nest's would also parse forms (see inboundGuard).
      bodyParser: false,
      logger: options.logger === undefined ? new SafeConsoleLogger() : options.logger,
    },
  );
  const { inbound } = config;
  // CORS off unless origins are configured: a browser page of another origin gets no answer.
  if (inbound.corsOrigins.length > 0) {
    app.enableCors({
      origin: inbound.corsOrigins.includes('*') ? '*' : inbound.corsOrigins,
      allowedHeaders: [
        'authorization',
        'content-type',
        'x-request-id',
        'x-user-id',
        'x-feature-name',
      ],
      exposedHeaders: ['x-request-id', 'x-llm-attempts', 'retry-after', 'retry-after-ms'],
    });
  }
  // Before the parser, so a refused request is never read.
  app.use(inboundGuard(inbound.apiKeys));
  app.useBodyParser('json', { limit: GATEWAY_BODY_LIMIT });
  app.disable('x-powered-by');
  boundSlowClients(app.getHttpServer(), config);
  await app.init();
  return app;
}

/**
 * Server-side limits for slow or silent clients: one that never finishes its headers or its body
 * is dropped instead of holding a socket forever. Responses are not limited: a stream may be long.
 */
function boundSlowClients(server: Server, { inbound }: GatewayConfig): void {
  server.headersTimeout = Math.min(inbound.headersTimeoutMs, inbound.requestTimeoutMs);
  server.requestTimeout = inbound.requestTimeoutMs;
  server.keepAliveTimeout = inbound.keepAliveTimeoutMs;
}
