/**
 * A seeded uniform random number generator in [0, 1) (mulberry32): small, fast and good enough to
 * place arrivals, so every strategy and every run gets the same schedule. Math.random cannot be
 * seeded.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Arrival times (ms) of a Poisson stream of `perMs` per ms, from 0 to `untilMs`. */
export function poissonArrivals(random: () => number, perMs: number, untilMs: number): number[] {
  const times: number[] = [];
  for (let at = -Math.log(1 - random()) / perMs; at < untilMs;) {
    times.push(at);
    at += -Math.log(1 - random()) / perMs;
  }
  return times;
}
