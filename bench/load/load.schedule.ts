import { poissonArrivals, seededRandom } from '../support/seeded-random';
import type { LoadConfig } from './load.config';

/** One request of the offered load: when it is sent (ms from the start) and why. */
export interface Arrival {
  atMs: number;
  source: 'burst' | 'background';
}

/**
 * The offered load: `burstSize` requests spread at random over `burstSpreadMs` every
 * `burstEveryMs`, on top of a Poisson stream of `backgroundPerSecond`. Seeded, so every strategy
 * gets exactly the same arrivals, run after run.
 */
export function buildSchedule(config: LoadConfig): Arrival[] {
  const random = seededRandom(config.seed);
  const arrivals: Arrival[] = [];
  for (let start = config.leadMs; start < config.durationMs; start += config.burstEveryMs) {
    for (let i = 0; i < config.burstSize; i++) {
      arrivals.push({ atMs: start + random() * config.burstSpreadMs, source: 'burst' });
    }
  }
  const perMs = config.backgroundPerSecond / 1_000;
  for (const atMs of poissonArrivals(random, perMs, config.durationMs)) {
    arrivals.push({ atMs, source: 'background' });
  }
  return arrivals.sort((a, b) => a.atMs - b.atMs);
}

/** Requests offered per minute on average, and the most offered in any one second. */
export function offeredRates(arrivals: readonly Arrival[], config: LoadConfig) {
  let peak = 0;
  let first = 0;
  for (let last = 0; last < arrivals.length; last++) {
    while (arrivals[last]!.atMs - arrivals[first]!.atMs >= 1_000) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return {
    averagePerMinute: (arrivals.length * 60_000) / config.durationMs,
    peakPerSecond: peak,
  };
}
