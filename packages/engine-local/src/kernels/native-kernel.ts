import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The native kernels (native/: a Node addon built from source at install by native/build.mjs
 * with the system compiler). Optional: when the addon is missing (no compiler, headers or
 * Python at install), fails to load, or gets a known product wrong, the engine keeps its
 * WebAssembly kernels and `nativeKernelStatus()` says why.
 */
export interface NativeKernel {
  /** C[M,N] (+)= alpha·op(A)·op(B), same contract as matmulJs; operands used in place */
  sgemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    M: number,
    K: number,
    N: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
    alpha: number,
    threads: number,
    kernel: NativeVariant | "auto",
  ): void;
  /** a = silu(g)·u, sig = σ(g) (all one length), on `threads` threads (ops.cc) */
  swigluForward(g: Float32Array, u: Float32Array, a: Float32Array, sig: Float32Array, threads: number): void;
  /** in place: g ← da·u·σ(1 + g(1 − σ)), u ← da·g·σ */
  swigluBackward(
    g: Float32Array,
    u: Float32Array,
    sig: Float32Array,
    da: Float32Array,
    threads: number,
  ): void;
  /** y = x·r·w per row, r = 1/√(mean(x²) + eps) into rinv */
  rmsnormForward(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    rinv: Float32Array,
    rows: number,
    d: number,
    eps: number,
    threads: number,
  ): void;
  /** dx += the input gradient; dw (null: none) += Σ_rows dy·x̂ */
  rmsnormBackward(
    x: Float32Array,
    w: Float32Array,
    rinv: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array | null,
    rows: number,
    d: number,
    threads: number,
  ): void;
  /** a += b (b at least as long as a) */
  addInPlace(a: Float32Array, b: Float32Array, threads: number): void;
  /** one AdamW update of w[start..] (src/train/adamw.ts), the same bits as its JS loop */
  adamw(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    start: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    stepSize: number,
    bc2Sqrt: number,
  ): void;
  /** causal GQA attention forward (native/src/ops.h): out and probs written */
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    probs: Float32Array,
    seg: Int32Array | null,
    B: number,
    T: number,
    H: number,
    KVH: number,
    hd: number,
    threads: number,
    kernel: NativeVariant,
  ): void;
  /** its backward: dq written, dk and dv accumulated */
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    dout: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    B: number,
    T: number,
    H: number,
    KVH: number,
    hd: number,
    threads: number,
    kernel: NativeVariant,
  ): void;
  /** the micro-kernel "auto" runs on this CPU */
  kernel(): NativeVariant;
  /** every micro-kernel this CPU runs, fastest first (the last is "scalar") */
  kernels(): NativeVariant[];
}

/**
 * The native micro-kernels: AVX-512F (12×32 tile) and AVX2+FMA (6×16) on x86-64, NEON (8×12)
 * on arm64, each picked at run time from what the CPU has, and portable C++ everywhere.
 */
export type NativeVariant = "avx512" | "avx2" | "neon" | "scalar";
/** the variants fast enough to take products from WebAssembly by default */
export const SIMD_VARIANTS: readonly NativeVariant[] = ["avx512", "avx2", "neon"];

// a path built at run time and loaded with process.dlopen: bundlers that trace this package
// (the web app reaches it through @distillery/inference) neither follow nor copy the addon
const ADDON_PATH = join(
  /* turbopackIgnore: true */ dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "native",
  "build",
  "Release",
  "distillery_native.node",
);

let native: NativeKernel | null | undefined;
let whyNot = "";

export function loadNativeKernel(): NativeKernel | null {
  if (native !== undefined) return native;
  native = null;
  if (!existsSync(ADDON_PATH)) {
    whyNot = "not built (native/build.mjs runs at npm install; see its log)";
    return native;
  }
  try {
    const holder = { exports: {} as NativeKernel };
    process.dlopen(holder, ADDON_PATH);
    const addon = holder.exports;
    if (typeof addon.kernels !== "function" || typeof addon.rmsnormForward !== "function")
      throw new Error("stale build (no kernels() or rmsnormForward()): rerun native/build.mjs");
    // a known product (exact in float32) through every packing path of every kernel before trusting it
    const M = 13;
    const K = 9;
    const N = 35;
    const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) - 5);
    const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 13) - 6);
    for (const variant of addon.kernels()) {
      const c = new Float32Array(M * N).fill(1);
      addon.sgemm(a, b, c, M, K, N, false, false, true, 0.5, 1, variant);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += (a[i * K + k] as number) * (b[k * N + j] as number);
          if (c[i * N + j] !== 1 + 0.5 * s) throw new Error(`${variant} self-check failed at (${i}, ${j})`);
        }
      }
    }
    native = addon;
  } catch (e) {
    whyNot = `failed to load: ${(e as Error).message.split("\n")[0]}`;
  }
  return native;
}

export function getNativeVariant(): NativeVariant | null {
  return loadNativeKernel()?.kernel() ?? null;
}

/** every native variant this CPU runs, fastest first; [] without the addon */
export function getNativeVariants(): NativeVariant[] {
  return loadNativeKernel()?.kernels() ?? [];
}

/** "avx512" / "avx2" / "neon" / "scalar" when loaded, else why not */
export function nativeKernelStatus(): string {
  return getNativeVariant() ?? whyNot;
}
