/**
 * Seeded PRNG (sfc32) whose whole state is four uint32s, so a checkpoint can store it and a
 * resumed run continues the exact stream. Derived streams (`deriveRng`) give each step its own
 * dropout and sampling randomness without threading one generator through everything.
 */
export class Rng {
  private s: Uint32Array;
  constructor(state: number[] | Uint32Array) {
    this.s = Uint32Array.from(state);
  }
  static fromSeed(seed: number, stream = 0): Rng {
    const r = new Rng([0x9e3779b9, seed >>> 0, stream >>> 0, (seed * 31 + stream * 17 + 1) >>> 0]);
    for (let i = 0; i < 16; i++) r.nextUint32();
    return r;
  }
  nextUint32(): number {
    const s = this.s;
    const a = s[0] as number,
      b = s[1] as number,
      c = s[2] as number,
      d = s[3] as number;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = (d + 1) >>> 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) >>> 0;
    const c2 = (c << 21) | (c >>> 11);
    s[2] = (c2 + t) >>> 0;
    return t >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
  /** standard normal (Box–Muller) */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  state(): number[] {
    return [...this.s];
  }
}

export function shuffleInPlace<T>(arr: T[], rng: Rng): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = arr[i] as T;
    arr[i] = arr[j] as T;
    arr[j] = t;
  }
  return arr;
}
