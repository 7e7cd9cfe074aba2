import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

/**
 * Loads build/matmul.wasm (compiled from assembly/matmul.ts by `npm run build`). Operands are
 * copied into one growable linear memory per call: the copies are O(n²) against the O(n³)
 * product, and keeping JS-owned tensors avoids writing an allocator for wasm memory.
 */
interface KernelExports {
  memory: WebAssembly.Memory;
  matmulNN(a: number, b: number, c: number, M: number, K: number, N: number, accumulate: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
}

const WASM_PATH = fileURLToPath(new URL("../../build/matmul.wasm", import.meta.url));
const RELAXED_WASM_PATH = fileURLToPath(new URL("../../build/matmul-relaxed.wasm", import.meta.url));
const BASE = 65536;

let kernel: KernelExports | null | undefined;
let kernelVariant: "relaxed-simd" | "simd" | null = null;
let heap = new Float32Array(0);

function instantiate(path: string): KernelExports {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {
    env: {
      abort: () => {
        throw new Error("wasm abort");
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

/** The kernel computes 1·1 + 2·3 + … correctly: guards against a relaxed op that misbehaves. */
function isKernelSound(k: KernelExports): boolean {
  const h = new Float32Array(k.memory.buffer);
  const b = BASE / 4;
  for (let i = 0; i < 8; i++) h[b + i] = i + 1; // A [1,8]
  for (let i = 0; i < 64; i++) h[b + 8 + i] = (i % 8) + 1; // B [8,8]
  k.matmulNN(BASE, BASE + 32, BASE + 288, 1, 8, 8, 0);
  return h[b + 72] === 36 && h[b + 79] === 288;
}

/**
 * Prefers the relaxed-SIMD build (f32x4.relaxed_madd becomes one FMA on x86 with FMA3, about
 * twice the multiply-add rate). Node 20's V8 ships relaxed SIMD behind a flag, which must be set
 * before the module compiles; Node ≥ 22 has it on. Falls back to the plain SIMD build.
 */
export function loadWasmKernel(): KernelExports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    const k = instantiate(RELAXED_WASM_PATH);
    if (isKernelSound(k)) {
      kernel = k;
      kernelVariant = "relaxed-simd";
    }
  } catch {
    // no relaxed SIMD here: use the plain build
  }
  if (!kernel) {
    try {
      kernel = instantiate(WASM_PATH);
      kernelVariant = "simd";
    } catch {
      kernel = null;
    }
  }
  if (kernel) heap = new Float32Array(kernel.memory.buffer);
  return kernel;
}

export function getWasmKernelVariant(): "relaxed-simd" | "simd" | null {
  loadWasmKernel();
  return kernelVariant;
}

export function isWasmKernelAvailable(): boolean {
  return loadWasmKernel() !== null;
}

function ensureFloats(k: KernelExports, floats: number): Float32Array {
  const needBytes = BASE + floats * 4;
  const have = k.memory.buffer.byteLength;
  if (needBytes > have) k.memory.grow(Math.ceil((needBytes - have) / 65536));
  if (heap.buffer !== k.memory.buffer) heap = new Float32Array(k.memory.buffer);
  return heap;
}

/** C[M,N] (+)= op(A) · op(B) in float32 through the SIMD kernel; same contract as matmulJs. */
export function matmulWasm(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
): void {
  const k = loadWasmKernel();
  if (!k) throw new Error("wasm kernel not loaded");
  const sizeA = M * K;
  const sizeB = K * N;
  const sizeC = M * N;
  // layout (in floats from BASE): A | B | C | scratch for a transposed operand
  const offA = 0;
  const offB = offA + sizeA;
  const offC = offB + sizeB;
  const offT = offC + sizeC;
  const h = ensureFloats(k, offT + Math.max(sizeA, sizeB));
  const base = BASE / 4;
  if (transA) {
    h.set(a.subarray(0, sizeA), base + offT);
    k.transpose(BASE + offT * 4, BASE + offA * 4, K, M);
  } else h.set(a.subarray(0, sizeA), base + offA);
  if (transB) {
    h.set(b.subarray(0, sizeB), base + offT);
    k.transpose(BASE + offT * 4, BASE + offB * 4, N, K);
  } else h.set(b.subarray(0, sizeB), base + offB);
  if (accumulate) h.set(c.subarray(0, sizeC), base + offC);
  k.matmulNN(BASE + offA * 4, BASE + offB * 4, BASE + offC * 4, M, K, N, accumulate ? 1 : 0);
  c.set(h.subarray(base + offC, base + offC + sizeC));
}
