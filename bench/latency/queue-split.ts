import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { loadAverage } from '../report/run-info';
import { SimulatorControl } from '../support/simulator.control';
import { alternatingBlocks } from './gateway.scenario';
import { BENCH_MODEL } from './http-paths';
import { nowUs, type ProxySplit, QUEUE_SPLIT_HEADERS, queueSplitFile } from './queue-split.clock';
import {
  cpuMsOf,
  startBareProxy,
  startGateway,
  startSimulator,
  type ServerProcess,
} from './servers';
import { readSignalledJson } from './signalled-file';

/**
 * Where a call's time goes at 64 in flight, the load of the gateway benchmark's throughput point:
 * `node -r @swc-node/register bench/latency/queue-split.ts [runs]`. Direct, the floor and this
 * gateway (its defaults) in alternating blocks of 640 calls against the simulator answering in
 * 50 ms, as `npm run bench -- gateway` measures throughput, each after 3,000 sequential calls.
 * Every process stamps the call on the machine's monotonic clock (the client as it sends, the
 * upstream as it writes its answer, the proxy at each step: preloads `queue-split.proxy.ts` and
 * `queue-split.stamp.ts`), which splits each call through a proxy into: waiting to be read by the
 * proxy; the proxy's own work up to its upstream request; the upstream (its 50 ms and its own
 * queue); the answer waiting to be read by the proxy; the proxy's work up to its answer's end;
 * and the answer's way to the client. Waits are time the proxy's event loop was busy with other
 * calls (or its process off the CPU), not time spent on this call. Writes
 * bench/results/queue-split.json. GATEWAY_* / OTEL_* / LLM_* variables reach the gateway.
 */
const CONCURRENCY = 64;
const UPSTREAM_MS = 50;
const PER_BLOCK = 640;
const ROUNDS = 6;
const SEQUENTIAL = 3_000;
const BODY = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Say hi in one word.' }],
});

interface Client {
  call(): Promise<void>;
  close(): void;
  /** Means over the calls since the last reset (µs). */
  readonly latencyUs: number;
  /** From the last writer's stamp (the proxy's, or the upstream's when direct) to the answer's head. */
  readonly toClientUs: number;
  reset(): void;
}

/** A keep-alive client that stamps each request as it sends it (the same code for every path). */
function stampingClient(url: string): Client {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const target = new URL(url);
  let calls = 0;
  let latency = 0;
  let toClient = 0;
  return {
    get latencyUs() {
      return calls === 0 ? 0 : latency / calls;
    },
    get toClientUs() {
      return calls === 0 ? 0 : toClient / calls;
    },
    call: () =>
      new Promise<void>((resolve, reject) => {
        const sentAt = nowUs();
        const req = http.request({
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-bench',
            'content-length': Buffer.byteLength(BODY),
            [QUEUE_SPLIT_HEADERS.clientSent]: String(sentAt),
          },
        });
        req.once('response', (res) => {
          const headAt = nowUs();
          const written = Number(
            res.headers[QUEUE_SPLIT_HEADERS.proxyWritten] ??
              res.headers[QUEUE_SPLIT_HEADERS.upstreamWritten],
          );
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => {
            let data: { choices?: unknown } | undefined;
            try {
              data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { choices?: unknown };
            } catch {
              data = undefined;
            }
            if (res.statusCode !== 200 || !Array.isArray(data?.choices)) {
              reject(new Error(`${url}: ${res.statusCode}`));
              return;
            }
            calls++;
            latency += nowUs() - sentAt;
            toClient += headAt - written;
            resolve();
          });
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(BODY);
      }),
    close: () => agent.destroy(),
    reset: () => {
      calls = latency = toClient = 0;
    },
  };
}

interface PathRow {
  path: string;
  throughputVsDirect: number;
  latencyMs: number;
  toClientUs: number;
  /** The proxy's CPU (user + system, from /proc) per call during its blocks. */
  proxyCpuUs?: number;
  proxy?: ProxySplit;
}

async function oneRun(): Promise<{ node: string; loadBefore: string; rows: PathRow[] }> {
  const loadBefore = loadAverage();
  const preload = (file: string): string[] => ['-r', path.join(__dirname, file)];
  const passed = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(GATEWAY_|OTEL_|LLM_)/.test(k)),
  );
  const sim = await startSimulator(preload('queue-split.stamp.ts'));
  const servers: ServerProcess[] = [];
  const paths: { name: string; client: Client; server?: ServerProcess }[] = [];
  try {
    const bare = await startBareProxy(
      `${sim.origin}/v1`,
      { busyUs: 0 },
      preload('queue-split.proxy.ts'),
    );
    servers.push(bare);
    const gateway = await startGateway(
      `${sim.origin}/v1`,
      { LLM_MAX_CONCURRENCY: String(CONCURRENCY + 8), ...passed },
      preload('queue-split.proxy.ts'),
    );
    servers.push(gateway);
    paths.push(
      { name: 'direct', client: stampingClient(`${sim.origin}/v1/chat/completions`) },
      {
        name: 'bare pass-through',
        client: stampingClient(`${bare.origin}/v1/chat/completions`),
        server: bare,
      },
      {
        name: 'this gateway',
        client: stampingClient(`${gateway.origin}/v1/chat/completions`),
        server: gateway,
      },
    );
    for (const p of paths) for (let i = 0; i < SEQUENTIAL; i++) await p.client.call();
    await new SimulatorControl(`${sim.origin}/v1`).configure({ latencyMs: UPSTREAM_MS });
    const wallMs = new Map(paths.map((p) => [p.name, 0]));
    const cpuMs = new Map(paths.map((p) => [p.name, 0]));
    const blocks = paths.map((p) => ({ ...p, call: () => p.client.call() }));
    let started = false;
    await alternatingBlocks(blocks, CONCURRENCY, PER_BLOCK, ROUNDS, async (p, runBlock) => {
      // The warm-up blocks (every path's) are over: start counting.
      if (!started) {
        started = true;
        for (const q of paths) {
          q.client.reset();
          if (q.server) process.kill(q.server.pid, 'SIGUSR1');
        }
      }
      const startedAt = performance.now();
      const cpuBefore = p.server ? cpuMsOf(p.server.pid) : 0;
      await runBlock();
      wallMs.set(p.name, wallMs.get(p.name)! + performance.now() - startedAt);
      if (p.server) cpuMs.set(p.name, cpuMs.get(p.name)! + cpuMsOf(p.server.pid) - cpuBefore);
    });
    const perSecond = (name: string) => (PER_BLOCK * ROUNDS) / wallMs.get(name)!;
    const rows: PathRow[] = [];
    for (const p of paths) {
      rows.push({
        path: p.name,
        throughputVsDirect: perSecond(p.name) / perSecond('direct'),
        latencyMs: p.client.latencyUs / 1e3,
        toClientUs: p.client.toClientUs,
        proxyCpuUs: p.server ? (cpuMs.get(p.name)! * 1e3) / (PER_BLOCK * ROUNDS) : undefined,
        proxy: p.server
          ? await readSignalledJson<ProxySplit>(p.server.pid, queueSplitFile(p.server.pid))
          : undefined,
      });
    }
    return { node: process.version, loadBefore, rows };
  } finally {
    for (const p of paths) p.client.close();
    for (const s of servers) await s.stop();
    await sim.stop();
  }
}

function print(run: Awaited<ReturnType<typeof oneRun>>, index: number): void {
  const us = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(0));
  console.log(`\nrun ${index + 1}, ${run.node}, load ${run.loadBefore} before`);
  console.log(
    '| path | throughput / direct | proxy CPU per call | mean latency | to the proxy (p50, p99) | in the proxy | upstream | back to the proxy (p50, p99) | in the proxy | to the client |',
  );
  console.log(`| --- |${' --: |'.repeat(9)}`);
  for (const r of run.rows) {
    const s = r.proxy;
    console.log(
      `| ${r.path} | ${r.throughputVsDirect.toFixed(3)} | ${r.proxyCpuUs === undefined ? '–' : `${us(r.proxyCpuUs)} µs`} | ${r.latencyMs.toFixed(2)} ms | ` +
        (s
          ? `${us(s.toProxyUs)} (${us(s.toProxyP50Us)}, ${us(s.toProxyP99Us)}) µs | ${us(s.inProxyUs)} µs | ` +
            `${(s.upstreamUs / 1e3).toFixed(2)} ms | ${us(s.backToProxyUs)} (${us(s.backToProxyP50Us)}, ${us(s.backToProxyP99Us)}) µs | ${us(s.backInProxyUs)} µs | `
          : '– | – | – | – | – | ') +
        `${us(r.toClientUs)} µs |`,
    );
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 1);
  const results = [];
  for (let i = 0; i < runs; i++) {
    const run = await oneRun();
    print(run, i);
    results.push(run);
  }
  const out = path.join(__dirname, '..', 'results', 'queue-split.json');
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
