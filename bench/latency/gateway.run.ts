import * as fs from 'node:fs';
import { type GatewayScenarioOptions, runGatewayScenario } from './gateway.scenario';

/**
 * One Node version's run of the gateway comparison, as a child of `gateway.bench.ts` started
 * with that Node: reads its options from GATEWAY_BENCH_OPTIONS (JSON), writes its figures to
 * GATEWAY_BENCH_OUT.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.env.GATEWAY_BENCH_OPTIONS ?? '{}') as GatewayScenarioOptions;
  const out = process.env.GATEWAY_BENCH_OUT;
  if (!out) throw new Error('GATEWAY_BENCH_OUT is not set');
  const run = await runGatewayScenario(options);
  fs.writeFileSync(out, JSON.stringify(run));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
