import { UpstreamSimulator } from './upstream-simulator';

/**
 * Runs the simulator on its own (`npm run simulator`, docker-compose). Configured by env:
 * SIM_PORT (4010), SIM_HOST (127.0.0.1), SIM_API_KEY, SIM_LATENCY_MS, SIM_RPM, SIM_TPM.
 * Faults are then injected over HTTP under `/_sim/`.
 */
async function main(): Promise<void> {
  const simulator = await UpstreamSimulator.start({
    port: envNumber('SIM_PORT') ?? 4010,
    host: process.env.SIM_HOST || '127.0.0.1',
    apiKey: process.env.SIM_API_KEY || undefined,
    latencyMs: envNumber('SIM_LATENCY_MS'),
    rpm: envNumber('SIM_RPM'),
    tpm: envNumber('SIM_TPM'),
  });
  console.log(`LLM upstream simulator listening on ${simulator.baseUrl}`);
  const stop = (signal: NodeJS.Signals): void => {
    console.log(`Received ${signal}; closing the simulator.`);
    // Nothing else keeps the event loop alive, so the process exits once the server is closed.
    void simulator.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function envNumber(name: string): number | undefined {
  const text = process.env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got '${text}'. Fix or unset it.`);
  }
  return value;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
