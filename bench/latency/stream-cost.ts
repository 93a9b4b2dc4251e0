import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SortedSamples } from '../report/percentiles';
import { SimulatorControl } from '../support/simulator.control';
import { interleaved, memoryPerStream, openStalledStream } from './gateway.scenario';
import { type HttpPath, httpPath, type HttpPathId } from './http-paths';
import { startBareProxy, startGateway, startSimulator, type ServerProcess } from './servers';

/**
 * The stream figures of the gateway comparison alone, for working on them:
 * `SWC_NODE_IGNORE_DYNAMIC=1 node -r @swc-node/register bench/latency/stream-cost.ts [streams] [open]`.
 * Time to the first content delta (direct, the bare pass-through, this gateway; interleaved,
 * 50 warm-up streams per path), then the resident memory per open stream of the bare
 * pass-through and of this gateway with `open` streams held open (default 1,000), measured as
 * `npm run bench -- gateway` measures them. GATEWAY_* / OTEL_* / LLM_* variables reach the gateway;
 * BENCH_GATEWAY_BASELINE (a checkout of an earlier version, as for the gateway comparison) adds
 * that version's gateway beside this one, for a before/after in the same run.
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
    const heapOut = nodePath.join(os.tmpdir(), `stream-cost-heap-${process.pid}`);
    const gateway = await startGateway(
      simBase,
      { LLM_MAX_CONCURRENCY: String(open + 8), ...passed, HEAP_OUT: heapOut },
      ['--expose-gc', '-r', nodePath.join(__dirname, 'heap-on-signal.ts')],
    );
    servers.push(gateway);
    const paths = [
      httpPath('direct', 'direct', `${simBase}/chat/completions`),
      httpPath('bare', 'bare pass-through', `${bare.origin}/v1/chat/completions`),
      httpPath('gateway', 'this gateway', `${gateway.origin}/v1/chat/completions`),
    ];
    const proxies: Array<[HttpPathId, ServerProcess]> = [
      ['bare', bare],
      ['gateway', gateway],
    ];
    const baselineRoot = process.env.BENCH_GATEWAY_BASELINE?.trim();
    if (baselineRoot) {
      const baseline = await startGateway(
        simBase,
        { LLM_MAX_CONCURRENCY: String(open + 8), ...passed, HEAP_OUT: `${heapOut}-baseline` },
        ['--expose-gc', '-r', nodePath.join(__dirname, 'heap-on-signal.ts')],
        baselineRoot,
      );
      servers.push(baseline);
      paths.push(httpPath('baseline', 'gateway, before', `${baseline.origin}/v1/chat/completions`));
      proxies.push(['baseline', baseline]);
    }
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
      for (const [id, server] of proxies) {
        const path = paths.find((p) => p.id === id)!;
        const bytes = await memoryPerStream(control, server, path, open);
        console.log(
          `${path.label.padEnd(18)} ${bytes.toLocaleString('en')} bytes per open stream (resident set)`,
        );
      }
      for (const [id, server] of proxies) {
        if (id === 'bare') continue;
        const out = id === 'gateway' ? heapOut : `${heapOut}-baseline`;
        const path = paths.find((p) => p.id === id)!;
        const heap = await heapPerStream(control, server.pid, out, path, open);
        console.log(
          `${path.label.padEnd(18)} ${heap.toLocaleString('en')} bytes of live heap per open stream`,
        );
        fs.rmSync(out, { force: true });
      }
    }
    for (const p of paths) p.close();
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}

/**
 * Live heap per open stream of this gateway: `count` streams held open (stalled after their first
 * content, as for the resident set), the heap read after a full collection with none and with all
 * of them open.
 */
async function heapPerStream(
  control: SimulatorControl,
  pid: number,
  out: string,
  path: HttpPath,
  count: number,
): Promise<number> {
  const read = async (): Promise<number> => {
    fs.rmSync(out, { force: true });
    process.kill(pid, 'SIGUSR2');
    while (!fs.existsSync(out)) await sleep(50);
    await sleep(50);
    return Number(fs.readFileSync(out, 'utf8'));
  };
  await control.script([{ type: 'stream', content: 'hi there', stallAfter: 1, repeat: count }]);
  const before = await read();
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  await Promise.all(Array.from({ length: count }, () => openStalledStream(path, agent, requests)));
  await sleep(250);
  const after = await read();
  for (const req of requests) req.destroy();
  agent.destroy();
  await control.reset();
  return Math.round((after - before) / count);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
