/**
 * Seeded randomness for the simulated LLM. Every draw comes from one seeded stream so
 * a test or chaos run with the same seed and arrival order replays the same faults.
 */

export type Random = () => number;

/** mulberry32: tiny, fast, and good enough for simulation; returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box-Muller from two uniforms; callers pass the uniforms so the draw count per call stays fixed. */
export function standardNormal(u1: number, u2: number): number {
  // 1 - u keeps the log argument in (0, 1], avoiding log(0).
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** z at the 95th percentile of the standard normal, so sigma maps P50 to P95. */
const Z95 = 1.645;

export interface LatencyModel {
  p50Ms: number;
  p95Ms: number;
  timeScale: number;
}

/** Lognormal latency in ms for a standard-normal draw `z`: median p50, 95th percentile p95. */
export function lognormalMs(model: LatencyModel, z: number): number {
  const sigma = Math.log(model.p95Ms / model.p50Ms) / Z95;
  return model.p50Ms * Math.exp(sigma * z) * model.timeScale;
}

/** A seeded sampler of the latency model, for distribution checks without any server. */
export function createLatencySampler(model: LatencyModel & { seed: number }): () => number {
  const rand = mulberry32(model.seed);
  return () => lognormalMs(model, standardNormal(rand(), rand()));
}
