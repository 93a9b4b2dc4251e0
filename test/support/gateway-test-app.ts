import type { GatewayAppOptions } from '../../src/gateway/create-gateway-app';
import { startInProcessGateway, type InProcessGateway } from '../../bench/support/gateway-app';

/**
 * The gateway's Nest app booted in-process and listening on a free loopback port; closing it runs
 * its shutdown hooks (event shipping flushes on close). One boot for tests and benchmarks.
 */
export type GatewayTestApp = InProcessGateway;

/**
 * Boots the gateway as `main.ts` does, from environment variables, but in the test's process and
 * on port 0 (events not logged, Nest's logger off: see {@link startInProcessGateway}), on the
 * HTTP platform of the test run (see {@link platformEnv}).
 */
export function startGatewayApp(
  env: NodeJS.ProcessEnv,
  options: GatewayAppOptions = {},
): Promise<GatewayTestApp> {
  // `GATEWAY_HTTP_PLATFORM=fastify npx jest test/gateway*` runs the gateway suites on Fastify.
  return startInProcessGateway({ ...platformEnv(), ...env }, options);
}

/** The HTTP platform the suites run the gateway on, from the test run's own environment. */
export function platformEnv(): NodeJS.ProcessEnv {
  const platform = process.env.GATEWAY_HTTP_PLATFORM;
  return platform ? { GATEWAY_HTTP_PLATFORM: platform } : {};
}
