import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { UpstreamSimulator } from '../simulator/upstream-simulator';
import { BUILT_IN_SIMULATOR } from './gateway.constants';

/**
 * Starts the fault-injecting simulator as the gateway's upstream, for `npm start` without any
 * configuration: a newcomer sees the gateway work and can break its upstream on purpose.
 *
 * @example
 * const simulator = await startBuiltInSimulator(0);
 * const app = await createGatewayApp(withBaseUrl(config, simulator.baseUrl), { simulator });
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
