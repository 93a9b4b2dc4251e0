import * as path from 'node:path';
import { readBenchConfig } from './bench.config';
import { runJobsBench } from './jobs/jobs.bench';
import { runLatencyBench } from './latency.bench';
import { runLoadBench } from './load/load.bench';
import { Progress } from './progress';
import { runReplicasBench } from './replicas/replicas.bench';
import { collectRunInfo } from './run-info';

const BENCHES = ['latency', 'load', 'replicas', 'jobs'] as const;
type BenchName = (typeof BENCHES)[number];

/**
 * `npm run bench`: the benchmarks of the README, one after the other (`BENCH_ONLY=latency`,
 * `load`, `replicas` or `jobs` runs one). Loopback only, bounded in time, and every process it starts is
 * stopped however it ends. A missed target is reported, never an exit code: CI never fails on a
 * number. A benchmark that crashes is reported, the others still run, and the exit code is 1.
 */
async function main(): Promise<void> {
  const config = readBenchConfig(process.env, path.join(__dirname, 'results'));
  const only = readOnly(process.env.BENCH_ONLY);
  const info = collectRunInfo(config);
  const progress = new Progress();
  const runs: Record<BenchName, () => Promise<string[]>> = {
    latency: () => runLatencyBench(config, info, progress),
    load: () => runLoadBench(config.outDir, info, progress),
    replicas: () => runReplicasBench(config.outDir, info, progress),
    jobs: () => runJobsBench(config.outDir, info, progress),
  };
  const startedAt = Date.now();
  for (const name of only ? [only] : BENCHES) {
    try {
      const written = await runs[name]();
      if (written.length > 0) {
        console.log(`Results: ${written.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
      }
    } catch (error) {
      progress.finish();
      console.error(`\nThe ${name} benchmark failed:`, error);
      process.exitCode = 1;
    }
  }
  console.log(`\nBenchmarks done in ${((Date.now() - startedAt) / 1_000).toFixed(0)} s.`);
}

function readOnly(value: string | undefined): BenchName | undefined {
  const name = value?.trim();
  if (!name) return undefined;
  if ((BENCHES as readonly string[]).includes(name)) return name as BenchName;
  throw new Error(`BENCH_ONLY=${name} is not valid; set one of ${BENCHES.join(', ')}.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
