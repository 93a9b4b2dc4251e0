import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { UpstreamSimulator } from '../simulator/upstream-simulator';
import { BUILT_IN_SIMULATOR } from './gateway.constants';
import type { GatewayConfig } from './gateway.config';

/**
 * Starts the fault-injecting simulator as the gateway's upstream, for `npm start` without any
 * configuration: a newcomer sees the gateway work and can break its upstream on purpose.
 *
 * @example
 * const simulator = await startBuiltInSimulator(0);
 * const app = await createGatewayApp(onBuiltInSimulator(config, simulator), { simulator });
 */
export async function startBuiltInSimulator(port: number): Promise<UpstreamSimulator> {
  const simulator = await UpstreamSimulator.start({ port }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    // Another simulator (or anything) holds the port: a free one still gives a working demo.
    new Logger('Gateway').warn(`Port ${port} is in use; the built-in simulator takes a free port.`);
    return UpstreamSimulator.start({ port: 0 });
  });
  const control = simulator.baseUrl.replace(/\/v1$/, '/_sim/script');
  new Logger('Gateway').log(
    `No LLM_BASE_URL set: using the built-in upstream simulator at ${simulator.baseUrl} ` +
      `(inject faults via POST ${control})`,
  );
  return simulator;
}

/**
 * The gateway's configuration with the built-in simulator as its upstream. Streams ask it for
 * their usage unless LLM_STREAM_USAGE says otherwise: it takes `stream_options.include_usage`, so
 * a newcomer sees streamed calls counted in tokens (events, metrics) as plain ones are.
 */
export function onBuiltInSimulator(
  config: GatewayConfig,
  simulator: { baseUrl: string },
): GatewayConfig {
  const streamUsage = config.llm.streamUsage ?? 'always';
  return { ...config, llm: { ...config.llm, baseUrl: simulator.baseUrl, streamUsage } };
}

/** Closes the built-in simulator, if the gateway started one, when the app shuts down. */
@Injectable()
export class BuiltInSimulatorShutdown implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(BUILT_IN_SIMULATOR) private readonly simulator?: UpstreamSimulator,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.simulator?.close();
  }
}
