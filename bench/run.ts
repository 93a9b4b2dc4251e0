import * as path from 'node:path';
import { readBenchConfig } from './latency/latency.config';
import { runJobsBench } from './jobs/jobs.bench';
import { runGatewayBench } from './latency/gateway.bench';
import { runLatencyBench } from './latency/latency.bench';
import { runLoadBench } from './load/load.bench';
import { runOutageBench } from './outage/outage.bench';
import { Progress } from './report/progress';
import { runReplicasBench } from './replicas/replicas.bench';
import { collectRunInfo } from './report/run-info';

const BENCHES = ['load', 'outage', 'replicas', 'latency', 'gateway', 'jobs'] as const;
type BenchName = (typeof BENCHES)[number];

/**
 * `npm run bench`: the five benchmarks of the README, one after the other, in real time;
 * `npm run bench -- load` (or `outage`, `replicas`, `latency`, `gateway`, `jobs`, several at once, or
 * `BENCH_ONLY=load`) runs some. Loopback only, bounded in time (about 20 minutes in all), and
 * every process it starts is stopped however it ends. A missed target is reported, never an exit
 * code: CI never fails on a number. A benchmark that crashes is reported, the others still run,
 * and the exit code is 1.
 */
async function main(): Promise<void> {
  const config = readBenchConfig(process.env, path.join(__dirname, 'results'));
  const chosen = readChosen([
    ...process.argv.slice(2),
    ...(process.env.BENCH_ONLY ?? '').split(','),
  ]);
  const info = collectRunInfo(config);
  const progress = new Progress();
  const runs: Record<BenchName, () => Promise<string[]>> = {
    load: () => runLoadBench(config.outDir, info, progress),
    outage: () => runOutageBench(config.outDir, info, progress),
    replicas: () => runReplicasBench(config.outDir, info, progress),
    latency: () => runLatencyBench(config, info, progress),
    gateway: () => runGatewayBench(config.outDir),
    jobs: () => runJobsBench(config.outDir, info, progress),
  };
  const startedAt = Date.now();
  console.log(
    `Benchmarks: ${chosen.join(', ')}; load average ${info.loadAverage} (2 shared cores).`,
  );
  for (const name of chosen) {
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

function readChosen(names: readonly string[]): BenchName[] {
  const given = names.map((name) => name.trim()).filter(Boolean);
  for (const name of given) {
    if (!(BENCHES as readonly string[]).includes(name)) {
      throw new Error(`'${name}' is not a benchmark; choose from ${BENCHES.join(', ')}.`);
    }
  }
  return given.length === 0 ? [...BENCHES] : BENCHES.filter((name) => given.includes(name));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
