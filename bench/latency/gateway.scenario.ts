import * as fs from 'node:fs';
import * as http from 'node:http';
import { SortedSamples } from '../report/percentiles';
import { loadAverage } from '../report/run-info';
import { seededRandom } from '../support/seeded-random';
import { SimulatorControl } from '../support/simulator.control';
import { type HttpPath, type HttpPathId, httpPath } from './http-paths';
import {
  portkeyInstalled,
  type ServerProcess,
  startBareProxy,
  startGateway,
  startPortkey,
  startSimulator,
} from './servers';

/** Sizes of one run of the gateway comparison (one Node version). */
export interface GatewayScenarioOptions {
  /** Sequential calls per path, interleaved. */
  calls: number;
  warmup: number;
  /** Streams per path for the time to first content, interleaved. */
  streams: number;
  /** Calls in flight per path in the throughput phase. */
  concurrency: number;
  /** The upstream's latency in the throughput phase. */
  upstreamLatencyMs: number;
  /** Calls per path in the throughput phase (spread over alternating blocks). */
  throughputCalls: number;
  /** Streams held open at once for the memory reading. */
  openStreams: number;
  /** Extra env of the gateway (GATEWAY_HTTP_PLATFORM, ...). */
  gatewayEnv: NodeJS.ProcessEnv;
  /** Whether to include the peer gateway when it is installed. */
  peer: boolean;
  /**
   * Whether to measure this gateway on both HTTP platforms side by side: `gateway` on Express
   * and `fastify` on Fastify (GATEWAY_HTTP_PLATFORM). Off when `gatewayEnv` names a platform.
   */
  bothPlatforms?: boolean;
  /**
   * A checkout of an earlier version (its `src/` and a `node_modules` link): its gateway is
   * measured beside this one as `baseline`, for a before/after in the same run.
   */
  baselineRoot?: string;
}

export interface PathFigures {
  id: HttpPathId;
  label: string;
  /** Sequential latency samples, µs (kept for the plot). */
  samplesUs: number[];
  p50Us: number;
  p90Us: number;
  p99Us: number;
  /** Calls per second at `concurrency` in flight against the slow upstream. */
  callsPerSecond: number;
  /** Median time to the first content delta of a stream, µs. */
  ttfcP50Us: number;
  ttfcP99Us: number;
}

/**
 * The peer's own interleaved group: direct and the floor measured again beside the peer alone
 * (see {@link runGatewayScenario}); the peer's ratios are taken against these.
 */
export interface PeerGroupFigures {
  direct: { p50Us: number; p99Us: number; ttfcP50Us: number };
  bare: { p50Us: number; p99Us: number; ttfcP50Us: number };
}

export interface GatewayRun {
  node: string;
  date: string;
  loadBefore: string;
  loadAfter: string;
  options: Omit<GatewayScenarioOptions, 'gatewayEnv'> & { gatewayEnv: Record<string, string> };
  paths: PathFigures[];
  /** Resident memory per open stream (bytes) at `openStreams` streams, per proxying path. */
  bytesPerStream: Partial<Record<HttpPathId, number>>;
  /** Direct and the floor in the peer's group, when the peer was measured. */
  peerGroup?: PeerGroupFigures;
}

/**
 * One Node version's run: the simulator, the bare pass-through, this gateway and (when
 * installed) Portkey's gateway in their own processes under this Node; sequential calls
 * interleaved between the paths (shuffled order per round), then streams (time to first content), then
 * `concurrency` calls in flight per path against an upstream answering in `upstreamLatencyMs`,
 * then memory with `openStreams` streams held open.
 *
 * The peer's sequential calls and streams are interleaved in a group of their own, with direct
 * and the floor measured again beside it, as the issue's own table measured it ("same method,
 * other runs"): the peer leaves work running after its answer (28 ms streams, its own timers),
 * and the path measured right after it read slower by up to 0.6 ms, direct included. In one
 * group with this gateway, that cost lands on whichever path follows the peer.
 */
export async function runGatewayScenario(options: GatewayScenarioOptions): Promise<GatewayRun> {
  const loadBefore = loadAverage();
  const servers: ServerProcess[] = [];
  const paths: HttpPath[] = [];
  try {
    const sim = await startSimulator();
    servers.push(sim);
    const simBase = `${sim.origin}/v1`;
    const control = new SimulatorControl(simBase);
    const bare = await startBareProxy(simBase);
    servers.push(bare);
    // The bulkhead (32 calls, a product default) would cap throughput at 64 in flight; the
    // HTTP layer is what is measured, so the gateway admits what the client sends.
    const gateway = await startGateway(simBase, {
      LLM_MAX_CONCURRENCY: String(Math.max(options.concurrency, options.openStreams) + 8),
      ...options.gatewayEnv,
    });
    servers.push(gateway);
    const both = options.bothPlatforms === true && !options.gatewayEnv.GATEWAY_HTTP_PLATFORM;
    paths.push(
      httpPath('direct', 'direct', `${simBase}/chat/completions`),
      httpPath('bare', 'bare pass-through', `${bare.origin}/v1/chat/completions`),
      httpPath(
        'gateway',
        both ? 'this gateway (express)' : 'this gateway',
        `${gateway.origin}/v1/chat/completions`,
      ),
    );
    let onFastify: ServerProcess | undefined;
    if (both) {
      onFastify = await startGateway(simBase, {
        LLM_MAX_CONCURRENCY: String(Math.max(options.concurrency, options.openStreams) + 8),
        ...options.gatewayEnv,
        GATEWAY_HTTP_PLATFORM: 'fastify',
      });
      servers.push(onFastify);
      paths.push(
        httpPath('fastify', 'this gateway (fastify)', `${onFastify.origin}/v1/chat/completions`),
      );
    }
    if (options.baselineRoot) {
      const baseline = await startGateway(
        simBase,
        {
          LLM_MAX_CONCURRENCY: String(Math.max(options.concurrency, options.openStreams) + 8),
          ...options.gatewayEnv,
        },
        [],
        options.baselineRoot,
      );
      servers.push(baseline);
      paths.push(
        httpPath('baseline', 'this gateway, before', `${baseline.origin}/v1/chat/completions`),
      );
    }
    const main = [...paths];
    let portkey: ServerProcess | undefined;
    // The peer's group: direct and the floor again (their own agents), and the peer.
    const peerGroup: HttpPath[] = [];
    if (options.peer && portkeyInstalled()) {
      portkey = await startPortkey();
      servers.push(portkey);
      const peer = httpPath(
        'portkey',
        "Portkey's gateway",
        `${portkey.origin}/v1/chat/completions`,
        {
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': simBase,
        },
      );
      paths.push(peer);
      peerGroup.push(
        httpPath('direct', 'direct', `${simBase}/chat/completions`),
        httpPath('bare', 'bare pass-through', `${bare.origin}/v1/chat/completions`),
        peer,
      );
      paths.push(...peerGroup.slice(0, 2));
    }
    const { sequential, ttfc } = await callsAndStreams(main, options);
    let peerFigures: PeerGroupFigures | undefined;
    const peer = peerGroup[2];
    if (peer) {
      const group = await callsAndStreams(peerGroup, options);
      const figures = (id: HttpPathId) => {
        const s = new SortedSamples(group.sequential.get(id)!);
        return {
          p50Us: s.at(0.5),
          p99Us: s.at(0.99),
          ttfcP50Us: new SortedSamples(group.ttfc.get(id)!).at(0.5),
        };
      };
      peerFigures = { direct: figures('direct'), bare: figures('bare') };
      sequential.set(peer.id, group.sequential.get(peer.id)!);
      ttfc.set(peer.id, group.ttfc.get(peer.id)!);
    }
    // The throughput phase's alternating blocks are long (hundreds of ms): every path of the
    // run, the peer included, takes its turn in the same rotation.
    const inFlightPaths = peer ? [...main, peer] : main;
    await control.configure({ latencyMs: options.upstreamLatencyMs });
    const throughput = await inFlight(inFlightPaths, options.concurrency, options.throughputCalls);
    await control.configure({ latencyMs: 0 });
    const bytesPerStream: GatewayRun['bytesPerStream'] = {};
    const proxies: Array<[HttpPathId, ServerProcess]> = [
      ['bare', bare],
      ['gateway', gateway],
    ];
    if (onFastify) proxies.push(['fastify', onFastify]);
    if (portkey) proxies.push(['portkey', portkey]);
    for (const [id, server] of proxies) {
      const path = inFlightPaths.find((p) => p.id === id)!;
      bytesPerStream[id] = await memoryPerStream(control, server, path, options.openStreams);
    }
    return {
      node: process.version,
      date: new Date().toISOString(),
      loadBefore,
      loadAfter: loadAverage(),
      options: { ...options, gatewayEnv: { ...options.gatewayEnv } as Record<string, string> },
      paths: inFlightPaths.map((p) => {
        const seq = new SortedSamples(sequential.get(p.id)!);
        const first = new SortedSamples(ttfc.get(p.id)!);
        return {
          id: p.id,
          label: p.label,
          samplesUs: Array.from(sequential.get(p.id)!, (us) => Math.round(us * 10) / 10),
          p50Us: seq.at(0.5),
          p90Us: seq.at(0.9),
          p99Us: seq.at(0.99),
          callsPerSecond: throughput.get(p.id)!,
          ttfcP50Us: first.at(0.5),
          ttfcP99Us: first.at(0.99),
        };
      }),
      bytesPerStream,
      ...(peerFigures ? { peerGroup: peerFigures } : {}),
    };
  } finally {
    for (const p of paths) p.close();
    for (const server of servers.reverse()) await server.stop();
  }
}

/**
 * Sequential calls, each iteration calling every path once in its own shuffled order (a fixed
 * seed: the same orders on every run). Not a rotation: a rotated order keeps each path right
 * after the same other one, and a path measured right after another gateway's work read
 * differently from one after the bare proxy's (the adjacency, not the code).
 */
export async function interleaved(
  paths: readonly HttpPath[],
  warmup: number,
  calls: number,
  call?: (path: HttpPath) => Promise<void>,
  timed?: (path: HttpPath) => Promise<number>,
): Promise<Map<HttpPathId, Float64Array>> {
  const samples = new Map(paths.map((p) => [p.id, new Float64Array(calls)]));
  const random = seededRandom(0x15);
  const order = [...paths];
  for (let i = -warmup; i < calls; i++) {
    shuffle(order, random);
    for (const path of order) {
      let us: number;
      if (timed) {
        us = await timed(path);
      } else {
        const startedAt = process.hrtime.bigint();
        await call!(path);
        us = Number(process.hrtime.bigint() - startedAt) / 1_000;
      }
      if (i >= 0) samples.get(path.id)![i] = us;
    }
  }
  return samples;
}

/** One interleaved group's sequential calls, then its streams (time to first content). */
async function callsAndStreams(
  group: readonly HttpPath[],
  options: GatewayScenarioOptions,
): Promise<{ sequential: Map<HttpPathId, Float64Array>; ttfc: Map<HttpPathId, Float64Array> }> {
  const sequential = await interleaved(group, options.warmup, options.calls, (p) => p.call());
  const ttfc = await interleaved(
    group,
    Math.min(50, options.warmup),
    options.streams,
    undefined,
    (p) => p.stream(),
  );
  return { sequential, ttfc };
}

const ROUNDS = 6;

/** `concurrency` calls in flight, alternating blocks between paths; calls per second per path. */
async function inFlight(
  paths: readonly HttpPath[],
  concurrency: number,
  calls: number,
): Promise<Map<HttpPathId, number>> {
  const perBlock = Math.max(concurrency, Math.ceil(calls / ROUNDS));
  const wallNs = new Map(paths.map((p) => [p.id, 0n]));
  const done = new Map(paths.map((p) => [p.id, 0]));
  await alternatingBlocks(paths, concurrency, perBlock, ROUNDS, async (path, runBlock) => {
    const startedAt = process.hrtime.bigint();
    await runBlock();
    wallNs.set(path.id, wallNs.get(path.id)! + process.hrtime.bigint() - startedAt);
    done.set(path.id, done.get(path.id)! + perBlock);
  });
  return new Map(
    paths.map((p) => [p.id, done.get(p.id)! / (Number(wallNs.get(p.id)!) / 1e9)] as const),
  );
}

/**
 * The throughput phase's order: every path warmed up with `concurrency` × 4 calls, then `rounds`
 * rounds of one block of `perBlock` calls per path (`concurrency` in flight), each round starting
 * one path further. `measure` is handed each block to run, and reads what it wants around it.
 */
export async function alternatingBlocks<P extends Pick<HttpPath, 'call'>>(
  paths: readonly P[],
  concurrency: number,
  perBlock: number,
  rounds: number,
  measure: (path: P, runBlock: () => Promise<void>) => Promise<void>,
): Promise<void> {
  for (const path of paths) await block(path, concurrency * 4, concurrency);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < paths.length; k++) {
      const path = paths[(round + k) % paths.length]!;
      await measure(path, () => block(path, perBlock, concurrency));
    }
  }
}

/** `calls` calls through `path`, `concurrency` at a time (a closed loop: each ends, the next starts). */
async function block(
  path: Pick<HttpPath, 'call'>,
  calls: number,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      next++;
      await path.call();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
}

/**
 * Opens `count` streams through one proxy in four steps, each stalled by the simulator after its
 * first content chunk (the connection stays open), and reads the proxy's resident memory before
 * and after each step once every stream of it delivered its first content: the least-squares
 * slope of memory over open streams is the bytes per stream (a garbage collection during one
 * step moves one point, not the whole figure). The client's sockets are then destroyed and the
 * proxy is given time to let go of them.
 */
export async function memoryPerStream(
  control: SimulatorControl,
  server: ServerProcess,
  path: HttpPath,
  count: number,
): Promise<number> {
  await control.script([{ type: 'stream', content: 'hi there', stallAfter: 1, repeat: count }]);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  const points: Array<[number, number]> = [[0, rssBytes(server.pid)]];
  const STEPS = 4;
  for (let step = 1; step <= STEPS; step++) {
    const open = Math.round((count * step) / STEPS) - requests.length;
    await Promise.all(Array.from({ length: open }, () => openStalledStream(path, agent, requests)));
    // Let the proxy settle (its timers, lazily allocated buffers) before reading.
    await new Promise((r) => setTimeout(r, 250));
    points.push([requests.length, rssBytes(server.pid)]);
  }
  for (const req of requests) req.destroy();
  agent.destroy();
  await control.reset();
  await new Promise((r) => setTimeout(r, 1_000));
  return Math.max(0, Math.round(slope(points)));
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Opens one stream that the simulator stalls after its first content; resolves at that content. */
export function openStalledStream(
  path: HttpPath,
  agent: http.Agent,
  requests: http.ClientRequest[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = path.openStream(agent, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const onData = (chunk: string) => {
        text += chunk;
        if (/"content":"[^"]/.test(text)) {
          res.off('data', onData);
          res.on('data', () => undefined);
          resolve();
        }
      };
      res.on('data', onData);
      res.once('error', () => undefined);
    });
    req.once('error', (error) => (requests.includes(req) ? reject(error) : undefined));
    requests.push(req);
  });
}

/** VmRSS of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`No VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** Fisher-Yates, in place. */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
