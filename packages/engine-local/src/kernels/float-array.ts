/**
 * The engine computes in float32; gradient checks run the same code in float64. Every op takes
 * and returns `FArray` and allocates its outputs like its inputs (`allocLike`), so one
 * implementation serves both.
 */
import { allocArenaF32 } from "./wasm-memory.ts";

export type FArray = Float32Array | Float64Array;
export type DType = "f32" | "f64";

export function allocArray(dtype: DType, n: number): FArray {
  return dtype === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** Like allocLike, but arena memory is not zeroed: for outputs the op overwrites entirely. */
export function allocOutputLike(like: FArray, n: number): FArray {
  if (like instanceof Float64Array) return new Float64Array(n);
  return allocArenaF32(n, true) ?? new Float32Array(n);
}

/** Float32 temporaries come from the wasm step arena while one is open (see wasm-memory.ts). */
export function allocLike(like: FArray, n: number): FArray {
  if (like instanceof Float64Array) return new Float64Array(n);
  return allocArenaF32(n) ?? new Float32Array(n);
}

export function dtypeOf(a: FArray): DType {
  return a instanceof Float64Array ? "f64" : "f32";
}

export function convertArray(a: ArrayLike<number>, dtype: DType): FArray {
  const out = allocArray(dtype, a.length);
  out.set(a);
  return out;
}
