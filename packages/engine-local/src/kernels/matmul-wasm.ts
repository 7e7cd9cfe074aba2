import { chunkFor, OP, runTask, taskArgs } from "./parallel.ts";
import { loadWasmKernel } from "./wasm-kernel.ts";
import {
  allocArenaF32,
  allocPinned,
  copyToScratch,
  ensureBytes,
  heapF32,
  isArenaView,
  scratchStart,
} from "./wasm-memory.ts";

/**
 * Weights kept in wasm memory while they cannot change (a generation, or a training loop for
 * the frozen base): `transposed` maps a weight array (stored [N, K], used as op(B) = Bᵀ) to the
 * byte address of its [K, N] copy, `plain` to an untransposed copy (used as B, e.g. in dX = dY·W).
 * Products then neither copy nor transpose them.
 */
const transposed = new Map<Float32Array, number>();
const plain = new Map<Float32Array, number>();
/**
 * Off while the native kernels run the products (matmul.ts sets it): they read weights in place,
 * so copies in wasm memory would cost memory (1 GiB for a 135M student) for nothing.
 */
let packingEnabled = true;

/** matmul.ts: packWeights copies weights only while products take the WebAssembly path. */
export function setWeightPacking(enabled: boolean): void {
  packingEnabled = enabled;
}

export interface PackableWeight {
  data: Float32Array;
  /** rows (out features) and columns (in features) as stored */
  rows: number;
  cols: number;
}

/**
 * Copies the weights into a new arena span (transposed, and also as they are when `asStored`)
 * and returns the function that drops them. Skipped (a no-op) without the kernel or an arena,
 * and while the native kernels run the products (they read the weights where they are).
 * Within `maxBytes` the transposed copies come first (they save a transpose per product), then
 * the stored ones; whatever does not fit is copied per product as before, so a checkpoint
 * larger than wasm memory still trains. The caller promises the weights do not change until it
 * drops them.
 */
export function packWeights(weights: PackableWeight[], asStored = false, maxBytes = 1024 << 20): () => void {
  const k = loadWasmKernel();
  const fresh = [...new Map(weights.filter((w) => !transposed.has(w.data)).map((w) => [w.data, w])).values()];
  if (!k || !packingEnabled || fresh.length === 0) return () => {};
  let budget = maxBytes;
  const plan: { w: PackableWeight; stored: boolean }[] = [];
  for (const w of fresh) {
    if (w.data.length * 4 > budget) continue;
    budget -= w.data.length * 4;
    plan.push({ w, stored: false });
  }
  if (asStored) {
    for (const p of plan) {
      if (p.w.data.length * 4 > budget) continue;
      budget -= p.w.data.length * 4;
      p.stored = true;
    }
  }
  if (plan.length === 0) return () => {};
  const done: Float32Array[] = [];
  // pinned, not an open span: a training loop around this must not allocate into the arena
  const release = allocPinned(() => {
    for (const { w, stored } of plan) {
      const dst = allocArenaF32(w.data.length, true);
      const copy = stored ? allocArenaF32(w.data.length, true) : null;
      if (!dst || (stored && !copy)) break;
      const src = copy ? copy.byteOffset : copyToScratch(w.data);
      copy?.set(w.data);
      const { i32 } = taskArgs();
      i32[0] = src;
      i32[1] = dst.byteOffset;
      i32[2] = w.rows;
      i32[3] = w.cols;
      runTask(k, OP.transpose, w.rows, chunkFor(w.rows, 4), w.data.length * 4);
      transposed.set(w.data, dst.byteOffset);
      if (copy) plain.set(w.data, copy.byteOffset);
      done.push(w.data);
    }
  });
  return () => {
    for (const d of done) {
      transposed.delete(d);
      plain.delete(d);
    }
    release();
  };
}

/** How many weights are held in wasm memory now (tests). */
export function packedWeightCount(): number {
  return transposed.size;
}

/** packWeights (transposed only) around a synchronous `fn`. */
export function withPackedWeights<T>(weights: PackableWeight[], fn: () => T): T {
  const unpack = packWeights(weights);
  try {
    return fn();
  } finally {
    unpack();
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
    const resident = plain.get(x);
    if (resident !== undefined) return resident;
    const at = reserve(n);
    heapF32().set(x.subarray(0, n), at / 4);
    return at;
  };
  const sizeC = M * N;
  const pA = place(a, M * K);
  const { i32, f32 } = taskArgs();
  const packedAt = transB ? transposed.get(b) : undefined;
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
  const rowA = transA ? 4 : K * 4;
  const stepA = transA ? M * 4 : 4;
  const gemm = (k0: number, kn: number, j0: number, nn: number, acc: boolean) => {
    i32[0] = pA + k0 * stepA;
    i32[1] = rowA;
    i32[2] = stepA;
    i32[3] = pB + k0 * N * 4 + j0 * 4;
    i32[4] = N * 4; // ldb
    i32[5] = pC + j0 * 4;
    i32[6] = N * 4; // ldc
    i32[7] = M;
    i32[8] = kn;
    i32[9] = nn;
    i32[10] = acc ? 1 : 0;
    f32[11] = alpha;
    runTask(k, OP.gemm, M, chunkFor(M, 4), M * kn * nn);
  };
  if (K * N <= BLOCK_ABOVE) gemm(0, K, 0, N, accumulate);
  else {
    // a B larger than the caches (an LM head of 150k rows): column panels, and row chunks of B
    // when K is long too, so each block of B is reused by every row of A while it is in cache
    // and its rows stay within a few pages. Smaller products keep one pass (and their exact
    // summation order); a long K is summed chunk by chunk.
    const kc = K > K_CHUNK * 2 ? K_CHUNK : K;
    for (let j0 = 0; j0 < N; j0 += N_PANEL) {
      const nn = Math.min(N_PANEL, N - j0);
      for (let k0 = 0; k0 < K; k0 += kc) gemm(k0, Math.min(kc, K - k0), j0, nn, accumulate || k0 > 0);
    }
  }
  if (!cInPlace) c.set(heapF32().subarray(pC / 4, pC / 4 + sizeC));
}

/** products whose B holds more floats than this run in cache-sized blocks */
const BLOCK_ABOVE = 4 << 20;
const N_PANEL = 256;
const K_CHUNK = 512;
