import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { ensureBytes, getSharedMemory, heapF32, isArenaView, scratchStart } from "./wasm-memory.ts";

/**
 * Loads the AssemblyScript kernel (build/*.wasm, compiled by `npm run build`) over the shared
 * linear memory of wasm-memory.ts. Operands that live in the step arena are used in place; others
 * (weights, grads) are copied into scratch space above the arena. Large products can be split by
 * rows between this thread and one worker running the same kernel on the same memory.
 */
export interface KernelExports {
  matmulNN(a: number, b: number, c: number, M: number, K: number, N: number, accumulate: number): void;
  matmulStrided(
    a: number,
    b: number,
    c: number,
    M: number,
    K: number,
    N: number,
    accumulate: number,
    rowA: number,
    stepA: number,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  swigluForward(g: number, u: number, a: number, sig: number, n: number): void;
  swigluBackward(g: number, u: number, sig: number, da: number, n: number): void;
  expShiftedRow(x: number, out: number, n: number, max: number): number;
  rmsnormForward(x: number, w: number, y: number, rinv: number, rows: number, d: number, eps: number): void;
  rmsnormBackward(x: number, w: number, rinv: number, dy: number, dx: number, rows: number, d: number): void;
  addInPlace(a: number, b: number, n: number): void;
  causalSoftmax(scores: number, probs: number, T: number, scale: number): void;
  causalSoftmaxBackward(probs: number, dp: number, T: number, scale: number): void;
}

const WASM_PATH = fileURLToPath(new URL("../../build/matmul.wasm", import.meta.url));
const RELAXED_WASM_PATH = fileURLToPath(new URL("../../build/matmul-relaxed.wasm", import.meta.url));
const WORKER_PATH = fileURLToPath(new URL("./matmul-worker.mjs", import.meta.url));
/** below this many multiply-adds the hand-off costs more than the second core saves */
const PARALLEL_MIN_MACS = 1 << 20;

let kernel: KernelExports | null | undefined;
let kernelPath = "";
let kernelVariant: "relaxed-simd" | "simd" | null = null;
let memory: WebAssembly.Memory | null = null;
let worker: { ctl: Int32Array; seq: number } | null = null;
/**
 * One thread by default: on a quiet machine the second thread makes products ~1.8× faster, but
 * on a shared, oversubscribed one (CI, several engineers) it measured 30–40% slower, so callers
 * opt in (`setMatmulThreads(2)`, CLI `--threads 2`).
 */
let threadsWanted = 1;
/** products left to run single-threaded after the worker kept us waiting (see runRows) */
let backoff = 0;
let strikes = 0;

function instantiate(path: string, mem: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {
    env: {
      memory: mem,
      abort: () => {
        throw new Error("wasm abort");
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

/**
 * The kernel computes 1·1 + 2·3 + … correctly: guards against a relaxed op that misbehaves. It
 * works in scratch space above the arena, which may already hold live tensors.
 */
function isKernelSound(k: KernelExports): boolean {
  const at = scratchStart();
  if (!ensureBytes(at + 80 * 4)) return false;
  const h = heapF32();
  const b = at / 4;
  for (let i = 0; i < 8; i++) h[b + i] = i + 1; // A [1,8]
  for (let i = 0; i < 64; i++) h[b + 8 + i] = (i % 8) + 1; // B [8,8]
  k.matmulNN(at, at + 32, at + 288, 1, 8, 8, 0);
  return h[b + 72] === 36 && h[b + 79] === 288;
}

/**
 * Prefers the relaxed-SIMD build (f32x4.relaxed_madd becomes one FMA on x86 with FMA3, about
 * twice the multiply-add rate). Node 20's V8 ships relaxed SIMD behind a flag, which must be set
 * before the module compiles; Node ≥ 22 has it on. Falls back to the plain SIMD build.
 */
/**
 * `npm run build` (turbo's build, and the package's pretest) compiles the kernel; a checkout that
 * skipped it compiles it here on first use, so the engine never silently runs the slow JS path.
 */
function buildKernelIfMissing(): void {
  if (existsSync(WASM_PATH) && existsSync(RELAXED_WASM_PATH)) return;
  try {
    const asc = join(
      dirname(createRequire(import.meta.url).resolve("assemblyscript/package.json")),
      "bin",
      "asc.js",
    );
    const pkg = fileURLToPath(new URL("../..", import.meta.url));
    for (const target of ["release", "relaxed"]) {
      execFileSync(
        process.execPath,
        [asc, "assembly/index.ts", "--config", "asconfig.json", "--target", target],
        {
          cwd: pkg,
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    }
  } catch (e) {
    process.stderr.write(
      `engine-local: could not compile the WebAssembly kernel (${(e as Error).message}); using plain JS matmul\n`,
    );
  }
}

export function loadWasmKernel(): KernelExports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  buildKernelIfMissing();
  memory = getSharedMemory();
  if (!memory) return kernel;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    const k = instantiate(RELAXED_WASM_PATH, memory);
    if (isKernelSound(k)) {
      kernel = k;
      kernelPath = RELAXED_WASM_PATH;
      kernelVariant = "relaxed-simd";
    }
  } catch {
    // no relaxed SIMD here: use the plain build
  }
  if (!kernel) {
    try {
      kernel = instantiate(WASM_PATH, memory);
      kernelPath = WASM_PATH;
      kernelVariant = "simd";
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

export function getWasmKernelVariant(): "relaxed-simd" | "simd" | null {
  loadWasmKernel();
  return kernelVariant;
}

export function isWasmKernelAvailable(): boolean {
  return loadWasmKernel() !== null;
}

/** 1 (default) keeps every product on the calling thread; 2 adds a worker where there are ≥ 2 cores. */
export function setMatmulThreads(n: number): void {
  threadsWanted = Math.max(1, Math.min(2, availableParallelism(), Math.floor(n)));
}

export function getMatmulThreads(): number {
  return threadsWanted;
}

function startWorker(): { ctl: Int32Array; seq: number } | null {
  if (worker || !memory) return worker;
  try {
    const control = new SharedArrayBuffer(16 * 4);
    const w = new Worker(WORKER_PATH, {
      workerData: { memory, wasmPath: kernelPath, relaxed: kernelVariant === "relaxed-simd", control },
    });
    w.unref();
    worker = { ctl: new Int32Array(control), seq: 0 };
  } catch {
    threadsWanted = 1;
  }
  return worker;
}

// control block slots (keep in sync with matmul-worker.mjs)
const SEQ = 0;
const NEXT = 1;
const DONE = 2;
const CLOSED = 0xffff;

/**
 * Splits the rows into chunks that this thread and the worker claim from a shared counter, so a
 * worker that is asleep or descheduled (the machine is shared) only means this thread does more
 * chunks, never that it waits idle for a fixed half. The counter's high bits carry the product's
 * sequence number, so a late worker cannot claim a chunk of a finished product.
 */
function runRows(
  k: KernelExports,
  a: number,
  b: number,
  c: number,
  M: number,
  K: number,
  N: number,
  acc: number,
  rowA: number,
  stepA: number,
): void {
  const big = threadsWanted > 1 && M >= 16 && M * K * N >= PARALLEL_MIN_MACS;
  if (big && backoff > 0) backoff--;
  const w = big && backoff === 0 ? startWorker() : null;
  if (!w) {
    k.matmulStrided(a, b, c, M, K, N, acc, rowA, stepA);
    return;
  }
  const chunk = Math.max(4, Math.ceil(M / 16 / 4) * 4);
  const chunks = Math.ceil(M / chunk);
  const ctl = w.ctl;
  w.seq = (w.seq + 1) & 0x7fffffff;
  const tag = (w.seq & 0x7fff) << 16;
  ctl[3] = a;
  ctl[4] = b;
  ctl[5] = c;
  ctl[6] = M;
  ctl[7] = K;
  ctl[8] = N;
  ctl[9] = acc;
  ctl[10] = chunk;
  ctl[11] = rowA;
  ctl[12] = stepA;
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, NEXT, tag);
  Atomics.store(ctl, SEQ, w.seq);
  Atomics.notify(ctl, SEQ);
  let mine = 0;
  for (;;) {
    const i = (Atomics.add(ctl, NEXT, 1) & 0xffff) as number;
    if (i >= chunks) break;
    const r0 = i * chunk;
    k.matmulStrided(a + r0 * rowA, b, c + r0 * N * 4, Math.min(chunk, M - r0), K, N, acc, rowA, stepA);
    mine++;
  }
  // wait for the chunks the worker claimed: spin briefly (it is mid-chunk), then sleep
  const waitStart = performance.now();
  const until = waitStart + 1;
  let spins = 0;
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done + mine >= chunks) break;
    if ((++spins & 255) === 0 && performance.now() > until) Atomics.wait(ctl, DONE, done, 1);
  }
  // close the product before its arguments are overwritten: a worker that read them late, or
  // half-written, sees the closed counter and claims nothing
  Atomics.store(ctl, NEXT, tag | CLOSED);
  // A long wait means the worker was preempted mid-chunk (other processes want the cores): after
  // a few of those, run single-threaded for a while rather than stall on a descheduled thread.
  if (performance.now() - waitStart > 0.5) {
    strikes++;
    if (strikes >= 3) {
      strikes = 0;
      backoff = 400;
    }
  } else if (strikes > 0 && Math.random() < 0.05) strikes--;
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
  const sizeA = M * K;
  const sizeB = K * N;
  const sizeC = M * N;
  // a transposed A (stored [K, M]) is read with strides by the kernel: no transpose copy
  const pA = place(a, sizeA);
  let pB = place(b, sizeB);
  if (transB) {
    const t = reserve(sizeB);
    k.transpose(pB, t, N, K);
    pB = t;
  }
  const cInPlace = isArenaView(c);
  const pC = cInPlace ? c.byteOffset : accumulate ? place(c, sizeC) : reserve(sizeC);
  runRows(k, pA, pB, pC, M, K, N, accumulate ? 1 : 0, transA ? 4 : K * 4, transA ? M * 4 : 4);
  if (!cInPlace) c.set(heapF32().subarray(pC / 4, pC / 4 + sizeC));
}
