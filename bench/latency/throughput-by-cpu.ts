import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAverage } from '../report/run-info';
import { SimulatorControl } from '../support/simulator.control';
import { alternatingBlocks } from './gateway.scenario';
import { httpPath, type HttpPath } from './http-paths';
import {
  cpuMsOf,
  startBareProxy,
  startGateway,
  startSimulator,
  type ServerProcess,
} from './servers';

/**
 * Whether CPU per call is all that keeps a proxy's throughput below direct's at 64 in flight:
 * direct, the floor (`bare-proxy.ts`), the floor made to spend more CPU per call in a busy loop
 * (`BARE_BUSY_US`) and this gateway with its defaults, each at 64 calls in flight against the
 * simulator answering in 50 ms, in alternating blocks as `npm run bench -- gateway` measures
 * throughput. Per path: the proxy's CPU per call at that load (user + system, from /proc) and
 * its throughput against direct's, with the simulator's and this client's CPU per call on that
 * path. Then the line fitted through the floor's points, and what it expects at this gateway's
 * CPU per call: a gateway below the line loses throughput to something other than the CPU it
 * spends. Three more floors spend `PLACED_US` µs more per call all in one place, outside the
 * line: before the upstream request ("in"), between the upstream's answer and its own ("back",
 * where this gateway's answer path is), and after its own answer, on the next turn of the event
 * loop ("after", where this gateway's metric records and events go: `after-answer.ts`).
 *
 * Run: `node -r @swc-node/register bench/latency/throughput-by-cpu.ts`. `RUNS` (3) runs, each
 * with its own servers; `BUSY_US` (`0,150,300`) the floor's extra CPU per call; `PLACED_US` (300;
 * 0 for none) the one spent in one place; `BLOCKS` (10) rounds of 640 calls per path;
 * `GATEWAY_B_NODE_ARGS` adds a second gateway started with those Node options (an A/B, e.g.
 * `--max-semi-space-size=64`), `GATEWAY_B_ROOT` one from another checkout (its `src/` and a
 * `node_modules` link, as `BENCH_GATEWAY_BASELINE`). Writes bench/results/throughput-by-cpu.json.
 */
const CONCURRENCY = 64;
const UPSTREAM_MS = 50;
const PER_BLOCK = 640;

interface Row {
  label: string;
  /** The floor's extra CPU per call, split as by default (the line's points). */
  busyUs?: number;
  /** The proxy's CPU per call (direct: none). */
  cpuUsPerCall: number;
  /** The simulator's and this client's CPU per call on this path. */
  upstreamCpuUsPerCall: number;
  clientCpuUsPerCall: number;
  throughputVsDirect: number;
}

interface RunResult {
  node: string;
  load: [string, string];
  rows: Row[];
  /** Throughput / direct = a + b × CPU µs per call, through the floor's points. */
  line: { a: number; b: number };
  /** What the line expects at this gateway's CPU per call, and what it read. */
  gateway: { cpuUsPerCall: number; expected: number; measured: number };
}

/** Least-squares line y = a + b·x. */
function fit(points: Array<[number, number]>): { a: number; b: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b };
}

interface MeasuredPath {
  path: HttpPath;
  pid?: number;
  label: string;
  busyUs?: number;
  wallNs: bigint;
  cpuMs: number;
  upstreamCpuMs: number;
  clientCpuMs: number;
  calls: number;
}

/**
 * Where a placed floor spends its extra CPU: its shares before the upstream request and after its
 * own answer (the rest between the upstream's answer and its own).
 */
const PLACES = [
  { place: 'in', inShare: 1, afterShare: 0 },
  { place: 'back', inShare: 0, afterShare: 0 },
  { place: 'after', inShare: 0, afterShare: 1 },
] as const;

async function run(
  busyLevels: number[],
  placedUs: number,
  rounds: number,
  argsB?: string,
  rootB?: string,
): Promise<RunResult> {
  const servers: ServerProcess[] = [];
  const paths: MeasuredPath[] = [];
  const add = (label: string, origin: string, server?: ServerProcess, busyUs?: number) =>
    paths.push({
      path: httpPath('bare', label, `${origin}/v1/chat/completions`),
      pid: server?.pid,
      label,
      busyUs,
      wallNs: 0n,
      cpuMs: 0,
      upstreamCpuMs: 0,
      clientCpuMs: 0,
      calls: 0,
    });
  try {
    const sim = await startSimulator();
    servers.push(sim);
    const simBase = `${sim.origin}/v1`;
    add('direct', sim.origin);
    for (const busyUs of busyLevels) {
      const proxy = await startBareProxy(simBase, { busyUs });
      servers.push(proxy);
      add(busyUs === 0 ? 'bare pass-through' : `bare + ${busyUs} µs`, proxy.origin, proxy, busyUs);
    }
    for (const { place, inShare, afterShare } of placedUs > 0 ? PLACES : []) {
      const proxy = await startBareProxy(simBase, { busyUs: placedUs, inShare, afterShare });
      servers.push(proxy);
      add(`bare + ${placedUs} µs ${place}`, proxy.origin, proxy);
    }
    // As the gateway benchmark runs it: the bulkhead's default (32) would cap 64 in flight.
    const env = { LLM_MAX_CONCURRENCY: '1008' };
    const gateway = await startGateway(simBase, env);
    servers.push(gateway);
    add('this gateway', gateway.origin, gateway);
    if (argsB || rootB) {
      const b = await startGateway(simBase, env, argsB ? argsB.split(' ') : [], rootB);
      servers.push(b);
      add(rootB ? `gateway at ${path.basename(rootB)}` : `gateway ${argsB}`, b.origin, b);
    }
    const control = new SimulatorControl(simBase);
    const loadBefore = loadAverage();
    await control.configure({ latencyMs: UPSTREAM_MS });
    const byPath = new Map(paths.map((p) => [p.path, p]));
    await alternatingBlocks(
      [...byPath.keys()],
      CONCURRENCY,
      PER_BLOCK,
      rounds,
      async (hp, runBlock) => {
        const p = byPath.get(hp)!;
        const cpuBefore = p.pid === undefined ? 0 : cpuMsOf(p.pid);
        const upstreamBefore = cpuMsOf(sim.pid);
        const clientBefore = process.cpuUsage();
        const startedAt = process.hrtime.bigint();
        await runBlock();
        p.wallNs += process.hrtime.bigint() - startedAt;
        const client = process.cpuUsage(clientBefore);
        p.clientCpuMs += (client.user + client.system) / 1000;
        p.upstreamCpuMs += cpuMsOf(sim.pid) - upstreamBefore;
        if (p.pid !== undefined) p.cpuMs += cpuMsOf(p.pid) - cpuBefore;
        p.calls += PER_BLOCK;
      },
    );
    await control.configure({ latencyMs: 0 });
    const rate = (p: MeasuredPath) => p.calls / Number(p.wallNs);
    const rows: Row[] = paths.map((p) => ({
      label: p.label,
      busyUs: p.busyUs,
      cpuUsPerCall: (p.cpuMs * 1000) / p.calls,
      upstreamCpuUsPerCall: (p.upstreamCpuMs * 1000) / p.calls,
      clientCpuUsPerCall: (p.clientCpuMs * 1000) / p.calls,
      throughputVsDirect: rate(p) / rate(paths[0]!),
    }));
    const line = fit(
      rows.filter((r) => r.busyUs !== undefined).map((r) => [r.cpuUsPerCall, r.throughputVsDirect]),
    );
    const g = rows.find((r) => r.label === 'this gateway')!;
    return {
      node: process.version,
      load: [loadBefore, loadAverage()],
      rows,
      line,
      gateway: {
        cpuUsPerCall: g.cpuUsPerCall,
        expected: line.a + line.b * g.cpuUsPerCall,
        measured: g.throughputVsDirect,
      },
    };
  } finally {
    for (const p of paths) p.path.close();
    for (const server of servers.reverse()) await server.stop();
  }
}

function print(r: RunResult, index: number): void {
  console.log(`run ${index + 1}, Node ${r.node}, load ${r.load[0]} → ${r.load[1]}`);
  for (const row of r.rows) {
    const cpu = row.label === 'direct' ? '–' : row.cpuUsPerCall.toFixed(0);
    console.log(
      `  ${row.label.padEnd(21)} CPU ${cpu.padStart(5)} µs per call ` +
        `(upstream ${row.upstreamCpuUsPerCall.toFixed(0).padStart(4)}, ` +
        `client ${row.clientCpuUsPerCall.toFixed(0).padStart(4)})   ` +
        `throughput ${row.throughputVsDirect.toFixed(3)} × direct`,
    );
  }
  const per100 = r.line.b * 100;
  console.log(
    `  the floor's line: ${r.line.a.toFixed(3)} ${per100 < 0 ? '-' : '+'} ` +
      `${Math.abs(per100).toFixed(3)} per 100 µs; at this gateway's ` +
      `${r.gateway.cpuUsPerCall.toFixed(0)} µs it expects ${r.gateway.expected.toFixed(3)}, ` +
      `measured ${r.gateway.measured.toFixed(3)} (${(r.gateway.measured - r.gateway.expected).toFixed(3)})`,
  );
}

async function main(): Promise<void> {
  const runs = Number(process.env.RUNS ?? 3);
  const busyLevels = (process.env.BUSY_US ?? '0,150,300').split(',').map(Number);
  const placedUs = Number(process.env.PLACED_US ?? 300);
  const rounds = Number(process.env.BLOCKS ?? 10);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    results.push(
      await run(
        busyLevels,
        placedUs,
        rounds,
        process.env.GATEWAY_B_NODE_ARGS,
        process.env.GATEWAY_B_ROOT,
      ),
    );
    print(results[i]!, i);
  }
  const out = path.join(__dirname, '..', 'results', 'throughput-by-cpu.json');
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`written to ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
