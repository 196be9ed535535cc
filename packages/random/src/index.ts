/**
 * A seeded pseudo-random generator (mulberry32): small, fast, and the same numbers for the same
 * seed on every machine, so that a simulated run, a benchmark's load or a synthetic data set can be
 * made again exactly. Not for anything secret (use node:crypto there). Answers numbers in [0, 1).
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
