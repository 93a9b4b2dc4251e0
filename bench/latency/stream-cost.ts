import { SortedSamples } from '../report/percentiles';
import { SimulatorControl } from '../support/simulator.control';
import { interleaved, memoryPerStream } from './gateway.scenario';
import { httpPath } from './http-paths';
import { startBareProxy, startGateway, startSimulator, type ServerProcess } from './servers';

/**
 * The stream figures of the gateway comparison alone, for working on them:
 * `SWC_NODE_IGNORE_DYNAMIC=1 node -r @swc-node/register bench/latency/stream-cost.ts [streams] [open]`.
 * Time to the first content delta (direct, the bare pass-through, this gateway; interleaved,
 * 50 warm-up streams per path), then the resident memory per open stream of the bare
 * pass-through and of this gateway with `open` streams held open (default 1,000), measured as
 * `npm run bench -- gateway` measures them. GATEWAY_* / OTEL_* / LLM_* variables reach the gateway.
 */
async function main(): Promise<void> {
  const streams = Number(process.argv[2] ?? 500);
  const open = Number(process.argv[3] ?? 1_000);
  const sim = await startSimulator();
  const servers: ServerProcess[] = [sim];
  const simBase = `${sim.origin}/v1`;
  const passed = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(GATEWAY_|OTEL_|LLM_)/.test(k)),
  );
  try {
    const bare = await startBareProxy(simBase);
    servers.push(bare);
    const gateway = await startGateway(simBase, {
      LLM_MAX_CONCURRENCY: String(open + 8),
      ...passed,
    });
    servers.push(gateway);
    const paths = [
      httpPath('direct', 'direct', `${simBase}/chat/completions`),
      httpPath('bare', 'bare pass-through', `${bare.origin}/v1/chat/completions`),
      httpPath('gateway', 'this gateway', `${gateway.origin}/v1/chat/completions`),
    ];
    const ttfc = await interleaved(paths, 50, streams, undefined, (p) => p.stream());
    const direct = new SortedSamples(ttfc.get('direct')!);
    for (const p of paths) {
      const s = new SortedSamples(ttfc.get(p.id)!);
      console.log(
        `${p.label.padEnd(18)} TTFC p50 ${(s.at(0.5) / 1e3).toFixed(3)} ms (added ${((s.at(0.5) - direct.at(0.5)) / 1e3).toFixed(3)})` +
          `   p99 ${(s.at(0.99) / 1e3).toFixed(3)} ms (added ${((s.at(0.99) - direct.at(0.99)) / 1e3).toFixed(3)})`,
      );
    }
    if (open > 0) {
      const control = new SimulatorControl(simBase);
      for (const [id, server] of [
        ['bare', bare],
        ['gateway', gateway],
      ] as const) {
        const path = paths.find((p) => p.id === id)!;
        const bytes = await memoryPerStream(control, server, path, open);
        console.log(`${path.label.padEnd(18)} ${bytes.toLocaleString('en')} bytes per open stream`);
      }
    }
    for (const p of paths) p.close();
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
