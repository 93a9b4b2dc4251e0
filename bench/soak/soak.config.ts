import { readInt } from '../support/env.reader';

/** What `npm run soak` runs; every value bounded, so a typo cannot start an endless run. */
export interface SoakConfig {
  /** SOAK_SECONDS: the mixed-traffic phase. @default 180 */
  seconds: number;
  /** SOAK_RPS: requests per second in that phase. @default 20 */
  rps: number;
  /** SOAK_LONG_MODELS: requests with a 2 MB model name in the abuse phase. @default 200 */
  longModels: number;
  /** SOAK_UPSTREAM_MS: how long the upstream takes in the drain phase. @default 3000 */
  upstreamMs: number;
  /** Where soak.md and soak.json go. */
  outDir: string;
}

export function readSoakConfig(env: NodeJS.ProcessEnv, outDir: string): SoakConfig {
  return {
    seconds: readInt(env, 'SOAK_SECONDS', 180, 10, 3600),
    rps: readInt(env, 'SOAK_RPS', 20, 1, 200),
    longModels: readInt(env, 'SOAK_LONG_MODELS', 200, 0, 1000),
    upstreamMs: readInt(env, 'SOAK_UPSTREAM_MS', 3000, 100, 20_000),
    outDir,
  };
}
