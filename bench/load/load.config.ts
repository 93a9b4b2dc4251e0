import { readInt } from '../env.reader';

/**
 * The seed's load test, compressed in time: every duration below is in "scenario" seconds and
 * minutes, and one scenario minute lasts `minuteMs` real milliseconds. The simulator's rate
 * window, the retry intervals of the hand-rolled strategies and the module's time defaults are
 * all compressed alike, so the ratios that decide the outcome (burst vs window, outage vs retry
 * budget vs breaker open time) are those of the real-time test. The openai SDK's retry delays are
 * built in and stay in real time.
 */
export interface LoadConfig {
  /** Real ms standing for one minute (`BENCH_LOAD_MINUTE_MS`). @default 2000 */
  minuteMs: number;
  /** The simulator's requests-per-minute limit. @default 60 */
  rpm: number;
  /** Requests in one burst: 1.5 × the limit arrive within `burstSpreadS`. @default 90 */
  burstSize: number;
  /** Scenario seconds a burst is spread over. @default 6 */
  burstSpreadS: number;
  /** Scenario seconds from one burst to the next. @default 150 */
  burstEveryS: number;
  /** Steady requests per scenario minute between bursts. @default 6 */
  backgroundPerMinute: number;
  /** Scenario seconds before the first burst (background only). @default 30 */
  leadS: number;
  /** Scenario seconds of offered load (`BENCH_LOAD_BURSTS` × `burstEveryS`). @default 1500 */
  durationS: number;
  /** The 503 outage: starts with the burst in the middle of the run. */
  outage: { status: number; atS: number; durationS: number };
  /** Retries of the hand-rolled strategies, as in the seed. @default 3 */
  retries: number;
  /** The seed's "before": `time.sleep(2)` between retries, in scenario seconds. @default 2 */
  fixedIntervalS: number;
  /** The seed's "after": `random.uniform(0, base * 2 ** attempt)`, base in scenario s. @default 1 */
  jitterBaseS: number;
  /** Seed of the arrival schedule, so every strategy and every run gets the same one. */
  seed: number;
}

/** Reads the load test's parameters; only the knobs worth turning come from the environment. */
export function readLoadConfig(env: NodeJS.ProcessEnv): LoadConfig {
  const burstEveryS = 150;
  const bursts = readInt(env, 'BENCH_LOAD_BURSTS', 10, 2, 100);
  const leadS = 30;
  return {
    minuteMs: readInt(env, 'BENCH_LOAD_MINUTE_MS', 2_000, 200, 60_000),
    rpm: 60,
    burstSize: 90,
    burstSpreadS: 6,
    burstEveryS,
    backgroundPerMinute: 6,
    leadS,
    durationS: bursts * burstEveryS,
    outage: {
      status: 503,
      atS: leadS + Math.floor(bursts / 2) * burstEveryS,
      durationS: readInt(env, 'BENCH_LOAD_OUTAGE_S', 5, 0, 600),
    },
    retries: 3,
    fixedIntervalS: 2,
    jitterBaseS: 1,
    seed: 20_241_111,
  };
}

/** Real milliseconds of `seconds` scenario seconds. */
export function realMs(config: Pick<LoadConfig, 'minuteMs'>, seconds: number): number {
  return (seconds * config.minuteMs) / 60;
}
