import type { CallPath } from './call-paths';
import type { Progress } from '../report/progress';

/** One path under concurrent load: its throughput and per-call latencies (µs). */
export interface ThroughputResult {
  id: CallPath['id'];
  calls: number;
  wallMs: number;
  callsPerSecond: number;
  latenciesUs: Float64Array;
}

/** Blocks per path; alternating blocks spread machine noise over every path. */
const ROUNDS = 10;
/** Unmeasured calls per in-flight slot before the measured blocks. */
const WARMUP_PER_SLOT = 20;

/**
 * Keeps `concurrency` calls in flight per path, in alternating blocks (A, B, C, A, B, C, ...),
 * and reports calls per second over the summed wall time of each path's blocks.
 */
export async function runThroughputScenario(
  paths: readonly CallPath[],
  options: { concurrency: number; calls: number },
  progress: Progress,
): Promise<ThroughputResult[]> {
  const perRound = Math.max(1, Math.ceil(options.calls / ROUNDS));
  const results = paths.map((p) => ({ id: p.id, calls: 0, wallNs: 0n, latencies: [] as number[] }));
  // Each path opens `concurrency` keep-alive sockets before its first measured block.
  for (const path of paths) {
    await block(path, options.concurrency * WARMUP_PER_SLOT, options.concurrency, []);
  }
  const total = perRound * ROUNDS * paths.length;
  let done = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < paths.length; k++) {
      const index = (round + k) % paths.length;
      const path = paths[index]!;
      const result = results[index]!;
      const startedAt = process.hrtime.bigint();
      await block(path, perRound, options.concurrency, result.latencies);
      result.wallNs += process.hrtime.bigint() - startedAt;
      result.calls += perRound;
      done += perRound;
      progress.update(`concurrency ${options.concurrency}`, done, total);
    }
  }
  progress.finish();
  return results.map((r) => {
    const wallMs = Number(r.wallNs) / 1e6;
    const latenciesUs = Float64Array.from(r.latencies);
    return {
      id: r.id,
      calls: r.calls,
      wallMs,
      callsPerSecond: (r.calls / wallMs) * 1_000,
      latenciesUs,
    };
  });
}

async function block(
  path: CallPath,
  calls: number,
  concurrency: number,
  out: number[],
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      const startedAt = process.hrtime.bigint();
      await path.call();
      out.push(Number(process.hrtime.bigint() - startedAt) / 1_000);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, () => worker()));
}
