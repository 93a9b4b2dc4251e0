import type { INestApplication } from '@nestjs/common';
import { createGatewayApp, type GatewayAppOptions } from '../../src/gateway/create-gateway-app';
import { loadGatewayConfig } from '../../src/gateway/gateway.config';

/** The gateway's Nest app booted in-process and listening on a free loopback port. */
export interface GatewayTestApp {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** Closes the app, which runs its shutdown hooks (event shipping flushes on close). */
  close(): Promise<void>;
}

/**
 * Boots the gateway as `main.ts` does, from environment variables, but in the test's process and
 * on port 0. Events as stdout JSON lines would flood the test output, so LLM_EVENTS_LOG defaults
 * to `false`; Nest's logger is off unless `options.logger` says otherwise.
 */
export async function startGatewayApp(
  env: NodeJS.ProcessEnv,
  options: GatewayAppOptions = {},
): Promise<GatewayTestApp> {
  const config = loadGatewayConfig({
    LLM_EVENTS_LOG: 'false',
    // `GATEWAY_HTTP_PLATFORM=fastify npx jest test/gateway*` runs the gateway suites on Fastify.
    ...platformEnv(),
    ...env,
  });
  const app = await createGatewayApp(config, { logger: false, ...options });
  try {
    await app.listen(0, '127.0.0.1');
    return { app, url: await app.getUrl(), close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The HTTP platform the suites run the gateway on, from the test run's own environment. */
export function platformEnv(): NodeJS.ProcessEnv {
  const platform = process.env.GATEWAY_HTTP_PLATFORM;
  return platform ? { GATEWAY_HTTP_PLATFORM: platform } : {};
}
