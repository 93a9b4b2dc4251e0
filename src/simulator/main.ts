import { parseArgs } from 'node:util';
import { SIM_ENFORCEMENTS } from './rate-limit.enforcer';
import { SIM_PROVIDERS, type SimEnforcement, type SimProvider } from './simulator.types';
import { UpstreamSimulator } from './upstream-simulator';

/** Each setting: its flag (`--rpm 600`) and its variable (`SIM_RPM=600`); a flag wins. */
const SETTINGS = {
  port: 'SIM_PORT',
  host: 'SIM_HOST',
  'api-key': 'SIM_API_KEY',
  'latency-ms': 'SIM_LATENCY_MS',
  rpm: 'SIM_RPM',
  tpm: 'SIM_TPM',
  enforcement: 'SIM_ENFORCEMENT',
  'window-ms': 'SIM_WINDOW_MS',
  'interval-ms': 'SIM_INTERVAL_MS',
  'burst-ms': 'SIM_BURST_MS',
  provider: 'SIM_PROVIDER',
} as const;
type Setting = keyof typeof SETTINGS;

/**
 * Runs the simulator on its own (`npm run simulator`, docker-compose), configured by flags or
 * env: `npm run simulator -- --rpm 600 --enforcement interval --interval-ms 1000 --provider
 * azure`, or SIM_RPM=600 SIM_ENFORCEMENT=interval ... Faults and limits can then be changed over
 * HTTP under `/_sim/`.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: Object.fromEntries(
      Object.keys(SETTINGS).map((name) => [name, { type: 'string' as const }]),
    ),
    allowPositionals: false,
  });
  const read = (name: Setting): string | undefined =>
    values[name]?.trim() || process.env[SETTINGS[name]]?.trim() || undefined;
  const number = (name: Setting): number | undefined => toNumber(name, read(name));
  const simulator = await UpstreamSimulator.start({
    port: number('port') ?? 4010,
    host: read('host') ?? '127.0.0.1',
    apiKey: read('api-key'),
    latencyMs: number('latency-ms'),
    rpm: number('rpm'),
    tpm: number('tpm'),
    enforcement: oneOf<SimEnforcement>('enforcement', read('enforcement'), SIM_ENFORCEMENTS),
    windowMs: number('window-ms'),
    intervalMs: number('interval-ms'),
    burstMs: number('burst-ms'),
    provider: oneOf<SimProvider>('provider', read('provider'), SIM_PROVIDERS),
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

function toNumber(name: Setting, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(
      `--${name} / ${SETTINGS[name]} must be a non-negative number, got '${text}'. Fix or unset it.`,
    );
  }
  return value;
}

function oneOf<T extends string>(name: Setting, text: string | undefined, allowed: readonly T[]) {
  if (text === undefined) return undefined;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new Error(
    `--${name} / ${SETTINGS[name]} must be one of ${allowed.join(', ')}, got '${text}'.`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
