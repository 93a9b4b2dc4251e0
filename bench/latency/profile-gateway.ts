import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarise, summariseHeap } from './cpu-profile.summary';
import { httpPath } from './http-paths';
import { startGateway, startSimulator } from './servers';

/**
 * Profiles this gateway under sequential load (`--cpu-prof`), as the README's breakdown was made:
 * `SWC_NODE_IGNORE_DYNAMIC=1 node -r @swc-node/register bench/latency/profile-gateway.ts [calls]`.
 * GATEWAY_* / OTEL_* / LLM_* variables given to this script reach the gateway. Prints the self
 * time per area and writes the profile to bench/results/profiles/.
 */
async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 3_000);
  const dir = path.join(__dirname, '..', 'results', 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `gateway-${process.version}-${Date.now()}.cpuprofile`);
  const sim = await startSimulator();
  const passed = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(GATEWAY_|OTEL_|LLM_)/.test(k)),
  );
  const gateway = await startGateway(`${sim.origin}/v1`, { ...passed, PROFILE_OUT: out }, [
    '-r',
    path.join(__dirname, 'profiler-on-signal.ts'),
  ]);
  const client = httpPath('gateway', 'gateway', `${gateway.origin}/v1/chat/completions`);
  for (let i = 0; i < 300; i++) await client.call();
  process.kill(gateway.pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
  const startedAt = Date.now();
  for (let i = 0; i < calls; i++) await client.call();
  const ms = Date.now() - startedAt;
  client.close();
  process.kill(gateway.pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 2_000));
  await gateway.stop();
  await sim.stop();
  console.log(
    `${calls} calls in ${ms} ms (${((ms / calls) * 1e3).toFixed(0)} µs per call, client side)`,
  );
  console.log(`${path.relative(process.cwd(), out)}\n${summarise(out)}\n`);
  console.log(`${summariseHeap(`${out}.heapprofile`)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
