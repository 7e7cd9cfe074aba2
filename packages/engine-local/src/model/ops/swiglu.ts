import { allocLike, type FArray } from "../../kernels/float-array.ts";

/** a = silu(g) · u, elementwise. */
export function swigluForward(g: FArray, u: FArray): FArray {
  const a = allocLike(g, g.length);
  for (let i = 0; i < g.length; i++) {
    const gi = g[i] as number;
    a[i] = (gi / (1 + Math.exp(-gi))) * (u[i] as number);
  }
  return a;
}

/** dg = da · u · σ(g)(1 + g(1 − σ(g))), du = da · silu(g). */
export function swigluBackward(g: FArray, u: FArray, da: FArray): { dg: FArray; du: FArray } {
  const dg = allocLike(g, g.length);
  const du = allocLike(g, g.length);
  for (let i = 0; i < g.length; i++) {
    const gi = g[i] as number;
    const s = 1 / (1 + Math.exp(-gi));
    const d = da[i] as number;
    dg[i] = d * (u[i] as number) * s * (1 + gi * (1 - s));
    du[i] = d * gi * s;
  }
  return { dg, du };
}
