import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
import { allocOutputLike, type FArray } from "../../kernels/float-array.ts";
import { nativeOps } from "../../kernels/matmul.ts";
import { chunkFor, getMatmulThreads, OP, runTask, taskArgs } from "../../kernels/parallel.ts";

/** the four operands as Float32Arrays of one length (the native ops' contract), else null */
function asF32(
  a: FArray,
  b: FArray,
  c: FArray,
  d: FArray,
): [Float32Array, Float32Array, Float32Array, Float32Array] | null {
  const n = a.length;
  return a instanceof Float32Array &&
    b instanceof Float32Array &&
    c instanceof Float32Array &&
    d instanceof Float32Array &&
    b.length === n &&
    c.length === n &&
    d.length === n
    ? [a, b, c, d]
    : null;
}

/** a = silu(g) · u, elementwise; σ(g) is returned too, so the backward pass needs no exp. */
export function swigluForward(g: FArray, u: FArray): { a: FArray; sig: FArray } {
  const a = allocOutputLike(g, g.length);
  const sig = allocOutputLike(g, g.length);
  const native = nativeOps();
  const f32 = native ? asF32(g, u, a, sig) : null;
  if (native && f32) {
    native.swigluForward(...f32, getMatmulThreads());
    return { a, sig };
  }
  const k = kernelForArena(g, u, a, sig);
  if (k) {
    const { i32 } = taskArgs();
    i32[0] = g.byteOffset;
    i32[1] = u.byteOffset;
    i32[2] = a.byteOffset;
    i32[3] = sig.byteOffset;
    runTask(k, OP.swigluForward, g.length, chunkFor(g.length, 4), g.length * 20);
    return { a, sig };
  }
  for (let i = 0; i < g.length; i++) {
    const gi = g[i] as number;
    const s = 1 / (1 + Math.exp(-gi));
    sig[i] = s;
    a[i] = gi * s * (u[i] as number);
  }
  return { a, sig };
}

/** dg = da · u · σ(g)(1 + g(1 − σ(g))), du = da · silu(g). Overwrites g and u with dg and du. */
export function swigluBackwardInPlace(
  g: FArray,
  u: FArray,
  sig: FArray,
  da: FArray,
): { dg: FArray; du: FArray } {
  const native = nativeOps();
  const f32 = native ? asF32(g, u, sig, da) : null;
  if (native && f32) {
    native.swigluBackward(...f32, getMatmulThreads());
    return { dg: g, du: u };
  }
  const k = kernelForArena(g, u, sig, da);
  if (k) {
    const { i32 } = taskArgs();
    i32[0] = g.byteOffset;
    i32[1] = u.byteOffset;
    i32[2] = sig.byteOffset;
    i32[3] = da.byteOffset;
    runTask(k, OP.swigluBackward, g.length, chunkFor(g.length, 4), g.length * 8);
    return { dg: g, du: u };
  }
  for (let i = 0; i < g.length; i++) {
    const gi = g[i] as number;
    const s = sig[i] as number;
    const d = da[i] as number;
    const ui = u[i] as number;
    g[i] = d * ui * s * (1 + gi * (1 - s));
    u[i] = d * gi * s;
  }
  return { dg: g, du: u };
}
