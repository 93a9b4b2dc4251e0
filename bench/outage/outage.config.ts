import { ENFORCEMENT_MODES, type EnforcementMode } from '../support/enforcement.modes';
import { readInt } from '../support/env.reader';

/**
 * A long outage in real time: steady load below the limit, then a minute of 503s, then the
 * upstream back. What a breaker is for: fail fast while it lasts, with next to no upstream
 * traffic, and be back soon after it ends.
 */
export interface OutageConfig {
  /** How the simulator enforces its limit: 1 s intervals with Azure's hints. */
  mode: EnforcementMode;
  /** The provider's limit per minute. @default 600 */
  rpm: number;
  /** Steady requests per second (a Poisson stream), half the limit. @default 5 */
  perSecond: number;
  /** Milliseconds of normal service before the outage. @default 10000 */
  leadMs: number;
  /** The outage (`BENCH_OUTAGE_S`). @default 60000 */
  outage: { status: number; durationMs: number };
  /** Milliseconds of load after the outage: longer than one maximum break (30 s). @default 40000 */
  afterMs: number;
  seed: number;
}

export function readOutageConfig(env: NodeJS.ProcessEnv): OutageConfig {
  return {
    mode: ENFORCEMENT_MODES['interval-1s'],
    rpm: 600,
    perSecond: 5,
    leadMs: 10_000,
    outage: { status: 503, durationMs: readInt(env, 'BENCH_OUTAGE_S', 60, 5, 600) * 1_000 },
    afterMs: readInt(env, 'BENCH_OUTAGE_AFTER_S', 40, 5, 600) * 1_000,
    seed: 20_241_113,
  };
}
