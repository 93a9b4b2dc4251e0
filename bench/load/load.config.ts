import { readModes, type EnforcementMode } from '../support/enforcement.modes';
import { readInt } from '../support/env.reader';

/**
 * The seed's load test in real time: bursty load that averages below the provider's limit, a
 * 4 s outage of 503s, against each enforcement mode. Real time, because the module's defaults
 * are absolute durations (a 1 s backoff, a 30 s break): compressing time would measure other
 * settings than the ones users run.
 */
export interface LoadConfig {
  /** The modes to run, one after the other (`BENCH_LOAD_MODES`, comma-separated). @default all */
  modes: EnforcementMode[];
  /** The provider's requests-per-minute limit: 10 per second. @default 600 */
  rpm: number;
  /** Requests in one burst: 2.7 × the per-second rate for 3 s, over a 10 s share. @default 80 */
  burstSize: number;
  /** Milliseconds a burst is spread over. @default 3000 */
  burstSpreadMs: number;
  /** Milliseconds from one burst to the next. @default 20000 */
  burstEveryMs: number;
  /** Steady requests per second between bursts (a Poisson stream). @default 3 */
  backgroundPerSecond: number;
  /** Milliseconds before the first burst (background only). @default 5000 */
  leadMs: number;
  /** Milliseconds of offered load (`BENCH_LOAD_SECONDS`). @default 90000 */
  durationMs: number;
  /** The 503 outage: starts with a burst in the middle of the run. */
  outage: { status: number; atMs: number; durationMs: number };
  /** Retries of the hand-rolled strategies, as in the seed. @default 3 */
  retries: number;
  /** The seed's "before": `time.sleep(2)` between retries. @default 2000 */
  fixedIntervalMs: number;
  /** The seed's "after": `random.uniform(0, 2 ** attempt)` seconds. @default 1000 */
  jitterBaseMs: number;
  /** Seed of the arrival schedule, so every strategy and every run gets the same one. */
  seed: number;
}

/** Reads the load test's parameters; only the knobs worth turning come from the environment. */
export function readLoadConfig(env: NodeJS.ProcessEnv): LoadConfig {
  const burstEveryMs = 20_000;
  const leadMs = 5_000;
  const durationMs = readInt(env, 'BENCH_LOAD_SECONDS', 90, 20, 1_800) * 1_000;
  const bursts = Math.ceil((durationMs - leadMs) / burstEveryMs);
  return {
    modes: readModes(env.BENCH_LOAD_MODES, 'BENCH_LOAD_MODES'),
    rpm: 600,
    burstSize: 80,
    burstSpreadMs: 3_000,
    burstEveryMs,
    backgroundPerSecond: 3,
    leadMs,
    durationMs,
    outage: {
      status: 503,
      atMs: leadMs + Math.floor(bursts / 2) * burstEveryMs,
      durationMs: readInt(env, 'BENCH_LOAD_OUTAGE_S', 4, 0, 600) * 1_000,
    },
    retries: 3,
    fixedIntervalMs: 2_000,
    jitterBaseMs: 1_000,
    seed: 20_241_111,
  };
}
