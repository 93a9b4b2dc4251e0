import { readInt } from '../support/env.reader';

/** What one `npm run bench` does; every field can be set from the environment. */
export interface BenchConfig {
  /** Measured sequential calls per path (`BENCH_CALLS`). @default 5000 */
  calls: number;
  /** Unmeasured calls per path before measuring (`BENCH_WARMUP`). @default 500 */
  warmup: number;
  /** In-flight calls of the throughput scenario; 0 skips it (`BENCH_CONCURRENCY`). @default 16 */
  concurrency: number;
  /** Calls per path in the throughput scenario (`BENCH_THROUGHPUT_CALLS`). @default 5000 */
  throughputCalls: number;
  /** Added p99 latency the issue sets as the target, in microseconds. */
  targetP99AddedUs: number;
  /** Where latency.json, latency.md and latency.png go (`BENCH_OUT_DIR`). */
  outDir: string;
}

/** Upper bounds, so a typo in an env variable cannot start an hour-long run. */
const MAX_CALLS = 200_000;
const MAX_CONCURRENCY = 256;

/** Reads the benchmark's parameters from `env`; a bad value fails before anything starts. */
export function readBenchConfig(env: NodeJS.ProcessEnv, defaultOutDir: string): BenchConfig {
  return {
    calls: readInt(env, 'BENCH_CALLS', 5_000, 1, MAX_CALLS),
    warmup: readInt(env, 'BENCH_WARMUP', 500, 0, MAX_CALLS),
    concurrency: readInt(env, 'BENCH_CONCURRENCY', 16, 0, MAX_CONCURRENCY),
    throughputCalls: readInt(env, 'BENCH_THROUGHPUT_CALLS', 5_000, 1, MAX_CALLS),
    targetP99AddedUs: 1_000,
    outDir: env.BENCH_OUT_DIR?.trim() || defaultOutDir,
  };
}
