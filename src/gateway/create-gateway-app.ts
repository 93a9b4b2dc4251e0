import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module';
import type { UpstreamSimulator } from '../simulator/upstream-simulator';
import type { GatewayConfig } from './gateway.config';
import { GATEWAY_BODY_LIMIT } from './gateway.constants';

/** Options of {@link createGatewayApp}. */
export interface GatewayAppOptions {
  /** Nest's logger setting; tests pass `false`. @default Nest's console logger */
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
    // Errors reach the caller instead of Nest exiting the process (tests boot apps in-process).
    { abortOnError: false, ...(options.logger === undefined ? {} : { logger: options.logger }) },
  );
  // Registered before init, so Nest's default 100 kB JSON parser is not added.
  app.useBodyParser('json', { limit: GATEWAY_BODY_LIMIT });
  app.disable('x-powered-by');
  await app.init();
  return app;
}
