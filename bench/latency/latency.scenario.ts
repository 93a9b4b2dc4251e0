import type { CallPath } from './call-paths';
import type { Progress } from '../report/progress';

/** Latency samples of each path, in microseconds, in call order. */
export type PathSamples = Map<CallPath['id'], Float64Array>;

export interface LatencyScenarioOptions {
  /** Unmeasured iterations first. */
  warmup: number;
  /** Measured iterations; each calls every path once. */
  calls: number;
}

const BLOCK = 100;

/**
 * Sequential calls (concurrency 1), interleaved: each iteration calls every path once, in an
 * order rotated per iteration, so GC pauses, CPU frequency and neighbours hit all paths alike
 * and no path always runs right after another.
 */
export async function runLatencyScenario(
  paths: readonly CallPath[],
  options: LatencyScenarioOptions,
  progress: Progress,
): Promise<PathSamples> {
  // Warm-up: JIT, keep-alive sockets, the simulator's own code paths; nothing is recorded.
  await interleave(paths, options.warmup, progress, 'warm-up', () => undefined);
  const samples: PathSamples = new Map(paths.map((p) => [p.id, new Float64Array(options.calls)]));
  await interleave(paths, options.calls, progress, 'sequential', (path, i, us) => {
    samples.get(path.id)![i] = us;
  });
  return samples;
}

async function interleave(
  paths: readonly CallPath[],
  iterations: number,
  progress: Progress,
  label: string,
  record: (path: CallPath, iteration: number, us: number) => void,
): Promise<void> {
  const total = iterations * paths.length;
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < paths.length; k++) {
      const path = paths[(i + k) % paths.length]!;
      const startedAt = process.hrtime.bigint();
      await path.call();
      record(path, i, Number(process.hrtime.bigint() - startedAt) / 1_000);
    }
    if (i % BLOCK === BLOCK - 1 || i === iterations - 1) {
      progress.update(label, (i + 1) * paths.length, total);
    }
  }
  progress.finish();
}
