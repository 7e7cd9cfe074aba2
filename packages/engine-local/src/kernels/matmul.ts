import type { FArray } from "./float-array.ts";
import { matmulJs } from "./matmul-js.ts";
import { matmulWasm } from "./matmul-wasm.ts";
import { loadWasmKernel } from "./wasm-kernel.ts";

let useWasm = loadWasmKernel() !== null;

/** Tests and benchmarks switch the float32 path between the WASM kernel and plain JS. */
export function setWasmMatmul(enabled: boolean): void {
  useWasm = enabled && loadWasmKernel() !== null;
}

export function isWasmMatmulEnabled(): boolean {
  return useWasm;
}

/**
 * C[M,N] (+)= alpha · op(A)[M,K] · op(B)[K,N]. op(A) = Aᵀ when transA (A stored [K,M]);
 * op(B) = Bᵀ when transB (B stored [N,K], the HF Linear weight layout).
 * float32 goes to the WebAssembly SIMD kernel; float64 (gradient checks) to plain JS.
 */
export function matmul(
  a: FArray,
  b: FArray,
  c: FArray,
  M: number,
  K: number,
  N: number,
  opts: { transA?: boolean; transB?: boolean; accumulate?: boolean; alpha?: number } = {},
): void {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const accumulate = opts.accumulate ?? false;
  const alpha = opts.alpha ?? 1;
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  if (useWasm && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    matmulWasm(a, b, c, M, K, N, transA, transB, accumulate, alpha);
  } else {
    matmulJs(a, b, c, M, K, N, transA, transB, accumulate, alpha);
  }
}
