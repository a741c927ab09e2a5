/**
 * mulberry32: a small, fast, seedable PRNG. Used wherever a run must be reproducible (model
 * training order, fuzz mutations, generated benchmark data); never for secrets (use node:crypto).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
