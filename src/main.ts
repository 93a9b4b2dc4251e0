// First: starts OpenTelemetry before the imports below load express, Nest and Node's http, as
// OpenTelemetry requires: instrumentations patch modules when they are required.
import { gatewayTelemetry } from './gateway/telemetry.start';
import { type INestApplication, Logger } from '@nestjs/common';
import { maskUrlPasswords } from './llm/index';
import { onBuiltInSimulator, startBuiltInSimulator } from './gateway/built-in-simulator';
import { createGatewayApp } from './gateway/create-gateway-app';
import { type GatewayConfig, loadGatewayConfig } from './gateway/gateway.config';
import { drainGateway } from './gateway/graceful-shutdown';
import type { UpstreamSimulator } from './simulator/upstream-simulator';

/**
 * Boots the gateway from the environment (see README "Configuration"). Without LLM_BASE_URL it
 * starts the built-in simulator as its upstream, so `npm start` works with no setup at all.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Gateway');
  logger.log(gatewayTelemetry.plan.description);
  const config = loadGatewayConfig(process.env);
  let simulator: UpstreamSimulator | undefined;
  let effective: GatewayConfig = config;
  if (config.llm.baseUrl) {
    // The base URL only: the key never reaches a log line.
    const key = config.llm.apiKey ? 'with the key from LLM_API_KEY' : 'without an API key';
    logger.log(
      `Upstream '${config.llm.upstreamName}' at ${maskUrlPasswords(config.llm.baseUrl)}, ${key}`,
    );
  } else {
    simulator = await startBuiltInSimulator(config.simPort);
    effective = onBuiltInSimulator(config, simulator);
  }
  let app: INestApplication | undefined;
  try {
    app = await createGatewayApp(effective, { simulator });
    closeOnSignals(app, config, logger);
    await app.listen(config.port, config.host).catch((error: unknown) => {
      throw listenError(error, config);
    });
    const url = await app.getUrl();
    logger.log(`Gateway listening on ${url} (OpenAI base URL ${url}/v1, health at ${url}/health)`);
    const auth = config.inbound.apiKeys.length;
    logger.log(
      auth > 0
        ? `Inbound authentication on: ${auth} key(s) from GATEWAY_API_KEYS`
        : 'Inbound authentication off (no GATEWAY_API_KEYS): anyone who reaches this address can spend the upstream key',
    );
  } catch (error) {
    // The app may hold connections (a jobs worker consuming, Redis): a gateway that cannot listen
    // (EADDRINUSE) must not keep running without its port.
    await app?.close().catch(() => undefined);
    await simulator?.close();
    throw error;
  }
}

/**
 * Why the gateway could not listen, naming the variable to change: Nest has said "successfully
 * started" by then, and Node's own message (`listen EADDRINUSE …`) names neither PORT nor HOST.
 */
function listenError(error: unknown, config: GatewayConfig): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const at = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') {
    return new Error(`Cannot listen on ${at}: the port is in use. Set PORT to a free port.`);
  }
  if (code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL' || code === 'EAI_AGAIN') {
    return new Error(
      `Cannot listen on ${at}: HOST=${config.host} is not an address of this machine (${code}). ` +
        'Set HOST to 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses.',
    );
  }
  if (code === 'EACCES') {
    return new Error(`Cannot listen on ${at}: permission denied. Set PORT to 1024 or above.`);
  }
  return error;
}

/**
 * The drain (see drainGateway: readiness fails, the server stops accepting after
 * GATEWAY_SHUTDOWN_DELAY_MS, calls in flight finish within LLM_DRAIN_TIMEOUT_MS), then Nest's
 * shutdown hooks (what `enableShutdownHooks` runs: transports close, events flush), then the
 * telemetry SDK, so spans of requests that end during shutdown are flushed too; then the signal
 * is raised again to end the process as it would have ended. SIGINT (Ctrl-C) skips the delay. A
 * second signal ends the process at once.
 */
function closeOnSignals(app: INestApplication, config: GatewayConfig, logger: Logger): void {
  const close = (signal: NodeJS.Signals) => {
    const delayMs = signal === 'SIGTERM' ? config.inbound.shutdownDelayMs : 0;
    drainGateway(app, { delayMs, logger })
      .catch((error: unknown) => logger.error(`Drain failed: ${String(error)}`))
      .then(() => app.close())
      .catch((error: unknown) => logger.error(`Shutdown failed: ${String(error)}`))
      .then(() => gatewayTelemetry.shutdown())
      .catch((error: unknown) => logger.error(`Telemetry shutdown failed: ${String(error)}`))
      .finally(() => process.kill(process.pid, signal));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, close);
}

bootstrap().catch(async (error: unknown) => {
  // A config error's message already says what to fix; a stack would only bury it.
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
  await gatewayTelemetry.shutdown();
});
