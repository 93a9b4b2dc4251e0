import { readInt } from '../env.reader';

/**
 * Three gateway replicas sharing one simulator limit through one Redis, time compressed like the
 * load test (one minute lasts `minuteMs`). Three phases of equal length: Redis up, Redis stopped,
 * Redis back (a fresh, empty server on the same port).
 */
export interface ReplicasConfig {
  /** Real ms standing for one minute (`BENCH_REPLICAS_MINUTE_MS`). @default 2000 */
  minuteMs: number;
  /** The simulator's limit per minute, which the replicas share. @default 120 */
  rpm: number;
  /** Gateway processes. @default 3 */
  replicas: number;
  /** Offered load as a multiple of the limit: above 1, so the limiter has to hold it. @default 1.2 */
  offeredRatio: number;
  /** Scenario minutes per phase (`BENCH_REPLICAS_PHASE_MINUTES`). @default 8 */
  phaseMinutes: number;
  /** Seed of the arrival times. */
  seed: number;
}

export function readReplicasConfig(env: NodeJS.ProcessEnv): ReplicasConfig {
  return {
    minuteMs: readInt(env, 'BENCH_REPLICAS_MINUTE_MS', 2_000, 500, 60_000),
    rpm: 120,
    replicas: 3,
    offeredRatio: 1.2,
    phaseMinutes: readInt(env, 'BENCH_REPLICAS_PHASE_MINUTES', 8, 2, 60),
    seed: 20_241_112,
  };
}

/** The three phases, in order. */
export const REPLICA_PHASES = ['redis up', 'redis down', 'redis back'] as const;
export type ReplicaPhase = (typeof REPLICA_PHASES)[number];
