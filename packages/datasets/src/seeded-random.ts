/** mulberry32 seeded from a 32-bit integer: deterministic splits and samples across machines. */
export function createSeededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** k distinct indices in [0, n), chosen with Floyd's algorithm (memory O(k)). */
export function chooseIndices(n: number, k: number, random: () => number): Set<number> {
  const chosen = new Set<number>();
  const take = Math.min(k, n);
  for (let j = n - take; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return chosen;
}
