import type { FArray } from "./float-array.ts";
import { matmulJs } from "./matmul-js.ts";
import { matmulWasm, setWeightPacking } from "./matmul-wasm.ts";
import {
  getNativeVariant,
  getNativeVariants,
  loadNativeKernel,
  type NativeVariant,
  nativeKernelStatus,
  SIMD_VARIANTS,
} from "./native-kernel.ts";
import { getMatmulThreads, setWasmHelper } from "./parallel.ts";
import { getWasmKernelVariant, loadWasmKernel } from "./wasm-kernel.ts";

/**
 * Which kernel runs float32 products: "native" (the addon in native/: the best of AVX-512,
 * AVX2+FMA, NEON or its portable C++ kernel), one native variant by name ("native-avx512",
 * "native-avx2", "native-neon", "native-scalar": benches and tests compare them), "wasm"
 * (WebAssembly SIMD) or "auto" (default: native when the addon loaded and this CPU has one of
 * its SIMD kernels, else wasm). The CLI maps DISTILLERY_ENGINE_KERNEL onto this.
 */
export type MatmulKernelChoice = "auto" | "native" | "wasm" | `native-${NativeVariant}`;

const wasmLoaded = loadWasmKernel() !== null;
/** setWasmMatmul(false): every product in plain JS (tests) */
let jsOnly = false;
let choice: MatmulKernelChoice = "auto";
/** the native variant products run on, null for WebAssembly */
let nativeVariant = resolveNative(choice);
setWeightPacking(nativeVariant === null);
setWasmHelper(nativeVariant === null);

function resolveNative(c: MatmulKernelChoice): NativeVariant | null {
  if (c === "wasm") return null;
  if (c.startsWith("native-")) return c.slice("native-".length) as NativeVariant;
  const best = getNativeVariant();
  if (c === "native") return best;
  return best && SIMD_VARIANTS.includes(best) ? best : null;
}

/** Tests and benchmarks switch the float32 path between the WASM kernel and plain JS. */
export function setWasmMatmul(enabled: boolean): void {
  jsOnly = !enabled;
}

export function isWasmMatmulEnabled(): boolean {
  return !jsOnly && wasmLoaded;
}

/**
 * "auto", "native", "native-<variant>" or "wasm" (an unknown value throws; native without the
 * addon throws, naming why; a variant this CPU lacks throws, naming those it has).
 */
export function setMatmulKernel(kernel: string): void {
  const variant = kernel.startsWith("native-") ? kernel.slice("native-".length) : null;
  if (kernel !== "auto" && kernel !== "native" && kernel !== "wasm" && variant === null)
    throw new Error(
      `kernel must be auto, native, native-<avx512|avx2|neon|scalar> or wasm (got "${kernel}")`,
    );
  if ((kernel === "native" || variant !== null) && !loadNativeKernel())
    throw new Error(`native kernels unavailable: ${nativeKernelStatus()}`);
  if (variant !== null && !getNativeVariants().includes(variant as NativeVariant))
    throw new Error(
      `native kernel ${variant} not available on this CPU (it runs: ${getNativeVariants().join(", ")})`,
    );
  choice = kernel as MatmulKernelChoice;
  nativeVariant = resolveNative(choice);
  setWeightPacking(nativeVariant === null);
  setWasmHelper(nativeVariant === null);
}

export function getMatmulKernelChoice(): MatmulKernelChoice {
  return choice;
}

/**
 * The path float32 products take, for logs and bench output: "native-avx512", "native-avx2",
 * "native-neon", "native-scalar", "wasm-relaxed-simd", "wasm-simd" or "js".
 */
export function activeMatmulKernel(): string {
  if (jsOnly) return "js";
  if (nativeVariant) return `native-${nativeVariant}`;
  const wasm = getWasmKernelVariant();
  return wasm ? `wasm-${wasm}` : "js";
}

/**
 * The addon when products run natively (the other native ops of a step follow the products'
 * path, so "wasm" forces WebAssembly for all of them), else null.
 */
export function nativeOps(): ReturnType<typeof loadNativeKernel> {
  return nativeVariant && !jsOnly ? loadNativeKernel() : null;
}

/** the native variant products (and the native ops' products) run on, null off the native path */
export function activeNativeVariant(): NativeVariant | null {
  return jsOnly ? null : nativeVariant;
}

/** One line for a run's log: the path, and why not native when it is not. */
export function describeMatmulKernel(): string {
  const path = activeMatmulKernel();
  if (path.startsWith("native") || choice === "wasm") return `matmul kernel ${path}`;
  return `matmul kernel ${path} (native kernels: ${nativeKernelStatus()})`;
}

/**
 * C[M,N] (+)= alpha · op(A)[M,K] · op(B)[K,N]. op(A) = Aᵀ when transA (A stored [K,M]);
 * op(B) = Bᵀ when transB (B stored [N,K], the HF Linear weight layout).
 * float32 goes to the native kernel or the WebAssembly SIMD kernel; float64 (gradient checks) to plain JS.
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
  if (!jsOnly && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    if (nativeVariant)
      (loadNativeKernel() as NonNullable<ReturnType<typeof loadNativeKernel>>).sgemm(
        a,
        b,
        c,
        M,
        K,
        N,
        transA,
        transB,
        accumulate,
        alpha,
        getMatmulThreads(),
        nativeVariant,
      );
    else if (wasmLoaded) matmulWasm(a, b, c, M, K, N, transA, transB, accumulate, alpha);
    else matmulJs(a, b, c, M, K, N, transA, transB, accumulate, alpha);
  } else {
    matmulJs(a, b, c, M, K, N, transA, transB, accumulate, alpha);
  }
}
