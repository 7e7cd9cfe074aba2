import { chunkFor, OP, runTask, taskArgs } from "./parallel.ts";
import { loadWasmKernel } from "./wasm-kernel.ts";
import { allocArenaF32, copyToScratch, ensureBytes, heapF32, isArenaView, scratchStart } from "./wasm-memory.ts";

/**
 * Weights packed for inference: a weight array (stored [N, K] and used as op(B) = Bᵀ) → the byte
 * address of its transposed copy [K, N] in the arena. Set for the span of one generation, during
 * which the weights do not change, so a decoding step neither copies nor transposes them.
 */
const packed = new Map<Float32Array, number>();

export interface PackableWeight {
  data: Float32Array;
  /** rows (out features) and columns (in features) as stored */
  rows: number;
  cols: number;
}

/**
 * Runs `fn` with each weight transposed once into the (open) arena and used from there by every
 * transposed-B product. Without an arena or the kernel, or past `maxBytes`, `fn` runs unpacked.
 */
export function withPackedWeights<T>(weights: PackableWeight[], fn: () => T, maxBytes = 512 << 20): T {
  const k = loadWasmKernel();
  const fresh = [...new Map(weights.filter((w) => !packed.has(w.data)).map((w) => [w.data, w])).values()];
  const bytes = fresh.reduce((n, w) => n + w.data.length * 4, 0);
  if (!k || bytes > maxBytes) return fn();
  try {
    for (const w of fresh) {
      const dst = allocArenaF32(w.data.length, true);
      if (!dst) break;
      const src = copyToScratch(w.data);
      const { i32 } = taskArgs();
      i32[0] = src;
      i32[1] = dst.byteOffset;
      i32[2] = w.rows;
      i32[3] = w.cols;
      runTask(k, OP.transpose, w.rows, chunkFor(w.rows, 4), w.data.length * 4);
      packed.set(w.data, dst.byteOffset);
    }
    return fn();
  } finally {
    for (const w of fresh) packed.delete(w.data);
  }
}

/**
 * C[M,N] (+)= alpha · op(A) · op(B) in float32 through the SIMD kernel; same contract as
 * matmulJs. Operands that live in the step arena are used in place; others (weights, grads) are
 * copied into scratch space above the arena. A transposed A is read with strides (no copy); a
 * transposed B is transposed once into scratch.
 */
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
  alpha = 1,
): void {
  const k = loadWasmKernel();
  if (!k) throw new Error("wasm kernel not loaded");
  let scratch = scratchStart();
  const reserve = (floats: number): number => {
    const at = scratch;
    scratch += (floats * 4 + 15) & ~15;
    if (!ensureBytes(scratch)) throw new Error("matmul operands exceed the 2 GiB wasm memory");
    return at;
  };
  /** byte address of x in wasm memory: in place for arena tensors, else a copy in scratch */
  const place = (x: Float32Array, n: number): number => {
    if (isArenaView(x)) return x.byteOffset;
    const at = reserve(n);
    heapF32().set(x.subarray(0, n), at / 4);
    return at;
  };
  const sizeC = M * N;
  const pA = place(a, M * K);
  const { i32, f32 } = taskArgs();
  const packedAt = transB ? packed.get(b) : undefined;
  let pB = packedAt ?? place(b, K * N);
  if (transB && packedAt === undefined) {
    const t = reserve(K * N);
    i32[0] = pB;
    i32[1] = t;
    i32[2] = N; // rows of the stored B
    i32[3] = K;
    runTask(k, OP.transpose, N, chunkFor(N, 4), K * N * 4);
    pB = t;
  }
  const cInPlace = isArenaView(c);
  const pC = cInPlace ? c.byteOffset : accumulate ? place(c, sizeC) : reserve(sizeC);
  i32[0] = pA;
  i32[1] = transA ? 4 : K * 4; // rowA
  i32[2] = transA ? M * 4 : 4; // stepA
  i32[3] = pB;
  i32[4] = N * 4; // ldb
  i32[5] = pC;
  i32[6] = N * 4; // ldc
  i32[7] = M;
  i32[8] = K;
  i32[9] = N;
  i32[10] = accumulate ? 1 : 0;
  f32[11] = alpha;
  runTask(k, OP.gemm, M, chunkFor(M, 4), M * K * N);
  if (!cInPlace) c.set(heapF32().subarray(pC / 4, pC / 4 + sizeC));
}
