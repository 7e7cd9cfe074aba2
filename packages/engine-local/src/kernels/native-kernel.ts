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
  /** the micro-kernel "auto" runs on this CPU */
  kernel(): NativeVariant;
}

export type NativeVariant = "avx2" | "scalar";

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
    // a known product through every packing path before trusting it
    const a = Float32Array.from({ length: 7 * 9 }, (_, i) => ((i * 7) % 11) - 5);
    const b = Float32Array.from({ length: 9 * 19 }, (_, i) => ((i * 5) % 13) - 6);
    const c = new Float32Array(7 * 19).fill(1);
    addon.sgemm(a, b, c, 7, 9, 19, false, false, true, 0.5, 1, "auto");
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 19; j++) {
        let s = 0;
        for (let k = 0; k < 9; k++) s += (a[i * 9 + k] as number) * (b[k * 19 + j] as number);
        if (c[i * 19 + j] !== 1 + 0.5 * s) throw new Error(`self-check failed at (${i}, ${j})`);
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

/** "avx2" / "scalar" when loaded, else why not */
export function nativeKernelStatus(): string {
  return getNativeVariant() ?? whyNot;
}
