import type { LoadConfig } from './load.config';
import { realMs } from './load.config';
import { poissonArrivals, seededRandom } from '../seeded-random';

/** One request of the offered load: when it is sent (real ms from the start) and why. */
export interface Arrival {
  atMs: number;
  source: 'burst' | 'background';
}

/**
 * The offered load: `burstSize` requests spread at random over `burstSpreadS` every
 * `burstEveryS`, on top of a Poisson stream of `backgroundPerMinute`. Seeded, so every strategy
 * gets exactly the same arrivals, run after run.
 */
export function buildSchedule(config: LoadConfig): Arrival[] {
  const random = seededRandom(config.seed);
  const arrivals: Arrival[] = [];
  for (let start = config.leadS; start < config.durationS; start += config.burstEveryS) {
    for (let i = 0; i < config.burstSize; i++) {
      const atS = start + random() * config.burstSpreadS;
      arrivals.push({ atMs: realMs(config, atS), source: 'burst' });
    }
  }
  const perMs = config.backgroundPerMinute / config.minuteMs;
  for (const atMs of poissonArrivals(random, perMs, realMs(config, config.durationS))) {
    arrivals.push({ atMs, source: 'background' });
  }
  return arrivals.sort((a, b) => a.atMs - b.atMs);
}

/** Requests offered per scenario minute: the average and the peak over any one-minute window. */
export function offeredRates(arrivals: readonly Arrival[], config: LoadConfig) {
  const windowMs = config.minuteMs;
  let peak = 0;
  let first = 0;
  for (let last = 0; last < arrivals.length; last++) {
    while (arrivals[last]!.atMs - arrivals[first]!.atMs >= windowMs) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return { averagePerMinute: (arrivals.length * 60) / config.durationS, peakPerMinute: peak };
}
