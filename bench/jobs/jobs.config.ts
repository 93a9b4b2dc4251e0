import { readInt } from '../support/env.reader';

/** The jobs benchmark's settings; every one can be overridden by a JOBS_BENCH_* variable. */
export interface JobsBenchConfig {
  /** The provider's limit, requests per (real) minute. @default 300 */
  rpm: number;
  /** Offered load ÷ the limit, on both paths. The seed: traffic grew 5×; the issue: 3–5×. @default 3 */
  offeredRatio: number;
  /** How long the load is offered, s. @default 120 */
  offerSeconds: number;
  /** The simulated provider's latency per request, ms. @default 200 */
  latencyMs: number;
  /** Workers per jobs scenario. @default 2 */
  workers: number;
  /** When one worker of the second scenario is killed (SIGKILL), s after the start. @default 60 */
  killAtS: number;
  /** How long it stays dead before a new one starts, s. @default 15 */
  downS: number;
  /** How long the jobs may take to drain after the load stops, s. @default 900 */
  drainLimitS: number;
}

/** Reads JOBS_BENCH_RPM, _OFFERED_RATIO, _SECONDS, _LATENCY_MS, _WORKERS, _KILL_AT_S, _DOWN_S. */
export function readJobsBenchConfig(env: NodeJS.ProcessEnv): JobsBenchConfig {
  return {
    rpm: readInt(env, 'JOBS_BENCH_RPM', 300, 10, 6_000),
    offeredRatio: readInt(env, 'JOBS_BENCH_OFFERED_RATIO', 3, 1, 10),
    offerSeconds: readInt(env, 'JOBS_BENCH_SECONDS', 120, 5, 600),
    latencyMs: readInt(env, 'JOBS_BENCH_LATENCY_MS', 200, 0, 10_000),
    workers: readInt(env, 'JOBS_BENCH_WORKERS', 2, 2, 8),
    killAtS: readInt(env, 'JOBS_BENCH_KILL_AT_S', 60, 1, 600),
    downS: readInt(env, 'JOBS_BENCH_DOWN_S', 15, 1, 600),
    drainLimitS: readInt(env, 'JOBS_BENCH_DRAIN_LIMIT_S', 900, 10, 3_600),
  };
}
