import { readInt } from '../support/env.reader';

/**
 * Three gateway replicas sharing one simulator limit through one Redis, in real time, with no
 * replica count configured: the replicas must learn it. The simulator enforces the limit per
 * 1 s interval, as Azure does. Three phases of equal length: Redis up, Redis killed, Redis back
 * (a fresh, empty server on the same port).
 */
export interface ReplicasConfig {
  /** The simulator's limit per minute, which the replicas share: 20 per second. @default 1200 */
  rpm: number;
  /** Gateway processes. @default 3 */
  replicas: number;
  /** Offered load as a multiple of the limit: above 1, so the limiter has to hold it. @default 1.2 */
  offeredRatio: number;
  /** Milliseconds per phase (`BENCH_REPLICAS_PHASE_S`). @default 25000 */
  phaseMs: number;
  /** Seed of the arrival times. */
  seed: number;
}

export function readReplicasConfig(env: NodeJS.ProcessEnv): ReplicasConfig {
  return {
    rpm: 1_200,
    replicas: 3,
    offeredRatio: 1.2,
    phaseMs: readInt(env, 'BENCH_REPLICAS_PHASE_S', 25, 5, 600) * 1_000,
    seed: 20_241_112,
  };
}

/** The three phases, in order. */
export const REPLICA_PHASES = ['redis up', 'redis killed', 'redis back'] as const;
export type ReplicaPhase = (typeof REPLICA_PHASES)[number];
