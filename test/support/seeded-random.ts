/**
 * A small deterministic generator (mulberry32): numbers in [0, 1), the same sequence for the same seed, so that a
 * randomised test that fails can be replayed. Its arithmetic stays in 32-bit integers (`Math.imul`): a generator
 * whose product passes 2^53 loses its low bits and cycles early.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
