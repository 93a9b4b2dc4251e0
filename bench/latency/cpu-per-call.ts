import { httpPath } from './http-paths';
import {
  cpuMsOf,
  startBareProxy,
  startGateway,
  startSimulator,
  type ServerProcess,
} from './servers';

/**
 * CPU time a proxy spends per call (user + system, from /proc), for sequential calls:
 * `node -r @swc-node/register bench/latency/cpu-per-call.ts [calls]`. GATEWAY_* / OTEL_* / LLM_*
 * variables reach the gateway. The figure that bounds throughput on one event loop.
 */
async function measure(name: string, server: ServerProcess, calls: number): Promise<void> {
  const client = httpPath('gateway', name, `${server.origin}/v1/chat/completions`);
  for (let i = 0; i < 500; i++) await client.call();
  const before = cpuMsOf(server.pid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await client.call();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = cpuMsOf(server.pid) - before;
  client.close();
  console.log(
    `${name.padEnd(10)} cpu ${((cpu / calls) * 1e3).toFixed(0).padStart(5)} µs/call   wall ${((wall / calls) * 1e3).toFixed(0).padStart(5)} µs/call`,
  );
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 3_000);
  const sim = await startSimulator();
  const passed = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(GATEWAY_|OTEL_|LLM_)/.test(k)),
  );
  const bare = await startBareProxy(`${sim.origin}/v1`);
  const gateway = await startGateway(
    `${sim.origin}/v1`,
    passed,
    (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
  try {
    await measure('bare', bare, calls);
    await measure('gateway', gateway, calls);
  } finally {
    await gateway.stop();
    await bare.stop();
    await sim.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
