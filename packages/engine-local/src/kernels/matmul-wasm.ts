import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
const BASE = 65536;

let kernel: KernelExports | null | undefined;
let heap = new Float32Array(0);

export function loadWasmKernel(): KernelExports | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = readFileSync(WASM_PATH);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { abort: () => { throw new Error("wasm abort"); } },
    });
    kernel = instance.exports as unknown as KernelExports;
    heap = new Float32Array(kernel.memory.buffer);
  } catch {
    kernel = null;
  }
  return kernel;
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
