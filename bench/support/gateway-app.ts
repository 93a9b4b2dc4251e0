import type { INestApplication } from '@nestjs/common';
import { createGatewayApp, type GatewayAppOptions } from '../../src/gateway/create-gateway-app';
import { loadGatewayConfig } from '../../src/gateway/gateway.config';

/** The gateway's Nest app booted in the benchmark's process, on a free loopback port. */
export interface InProcessGateway {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  close(): Promise<void>;
}

/**
 * Boots the gateway as `main.ts` does, from environment variables, in this process and on port 0;
 * events are not logged (LLM_EVENTS_LOG=false) unless `env` says so, Nest's logger is off.
 */
export async function startInProcessGateway(
  env: NodeJS.ProcessEnv,
  options: GatewayAppOptions = {},
): Promise<InProcessGateway> {
  const config = loadGatewayConfig({ LLM_EVENTS_LOG: 'false', ...env });
  const app = await createGatewayApp(config, { logger: false, ...options });
  try {
    await app.listen(0, '127.0.0.1');
    return { app, url: await app.getUrl(), close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}
