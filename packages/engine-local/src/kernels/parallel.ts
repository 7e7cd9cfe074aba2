import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { getKernelPath, getWasmKernelVariant, type KernelExports, loadWasmKernel } from "./wasm-kernel.ts";
import { getSharedMemory } from "./wasm-memory.ts";

/**
 * Work that this thread shares with one helper thread. The helper instantiates the same wasm
 * module over the same shared memory; a task is an op code of the module's `runTask` plus an
 * argument block in memory, split into units (rows, elements, attention heads) that both threads
 * claim in chunks from a shared counter. A helper that is asleep or descheduled (the machine is
 * shared) only means this thread does more chunks, never that it waits idle for a fixed half.
 */

/** op codes of assembly/tasks.ts */
export const OP = {
  gemm: 0,
  attentionForward: 1,
  attentionBackward: 2,
  rmsnormForward: 3,
  rmsnormBackward: 4,
  swigluForward: 5,
  swigluBackward: 6,
  add: 7,
  rope: 8,
  transpose: 9,
} as const;
export type OpCode = (typeof OP)[keyof typeof OP];

/** byte address of the argument block: below the step arena (wasm-memory.ts BASE), which the module leaves free */
const ARGS_ADDR = 1024;
const ARG_SLOTS = 32;
/** work (multiply-adds, or element operations) below which the hand-off costs more than the second core saves */
const PARALLEL_MIN_WORK = 1 << 17;

const WORKER_PATH = fileURLToPath(new URL("./parallel-worker.mjs", import.meta.url));

let argsI32: Int32Array | null = null;
let argsF32: Float32Array | null = null;
let helper: { ctl: Int32Array; seq: number } | null = null;
/**
 * One thread by default: on a quiet machine the second thread makes a training step ~1.8×
 * faster, but on a shared, oversubscribed one (CI, several engineers) it measured 30–40% slower,
 * so callers opt in (`setMatmulThreads(2)`, CLI `--threads 2`).
 */
let threadsWanted = 1;
/**
 * Whether wasm tasks may use the helper worker. Off on the native path: there the addon's own
 * helper thread (native/src/pool.cc) splits the products and native ops, and a second spinning
 * helper on two cores made a 2-thread reference step 35–40 ms instead of 24.
 */
let wasmHelper = true;
/** tasks left to run single-threaded after the helper kept us waiting (see runTask) */
let backoff = 0;
let strikes = 0;

/** matmul.ts: false while products run natively (the wasm ops then stay on the calling thread) */
export function setWasmHelper(enabled: boolean): void {
  wasmHelper = enabled;
}

/** 1 (default) keeps every task on the calling thread; 2 adds a helper where there are ≥ 2 cores. */
export function setMatmulThreads(n: number): void {
  threadsWanted = Math.max(1, Math.min(2, availableParallelism(), Math.floor(n)));
}

/**
 * The thread count for a `--threads` value: "1" or "2", or "auto" (also when undefined): 2 when
 * at least one and a half cores sit idle (a laptop, a quiet server), else 1. Oversubscribed, the second thread's spinning costs more than it gives
 * (measured: two 2-thread engines side by side on 2 cores took 86 ms a step, against 52 ms
 * for two 1-thread ones). Results are the same bits either way.
 */
export function resolveThreads(spec: string | undefined): number {
  const value = spec ?? "auto";
  if (value === "auto") return availableParallelism() - (loadavg()[0] ?? 0) >= 1.5 ? 2 : 1;
  if (value === "1" || value === "2") return Number(value);
  throw new Error(`threads must be 1, 2 or auto (got "${value}")`);
}

export function getMatmulThreads(): number {
  return threadsWanted;
}

/** The argument block as i32 slots and as f32 slots (the same bytes); fill, then call runTask. */
export function taskArgs(): { i32: Int32Array; f32: Float32Array } {
  if (!argsI32 || !argsF32) {
    const mem = getSharedMemory();
    if (!mem) throw new Error("no shared wasm memory");
    argsI32 = new Int32Array(mem.buffer, ARGS_ADDR, ARG_SLOTS);
    argsF32 = new Float32Array(mem.buffer, ARGS_ADDR, ARG_SLOTS);
  }
  return { i32: argsI32, f32: argsF32 };
}

function startHelper(): { ctl: Int32Array; seq: number } | null {
  if (helper) return helper;
  const memory = getSharedMemory();
  if (!memory) return null;
  try {
    const control = new SharedArrayBuffer(16 * 4);
    const w = new Worker(WORKER_PATH, {
      workerData: {
        memory,
        wasmPath: getKernelPath(),
        relaxed: getWasmKernelVariant() === "relaxed-simd",
        control,
      },
    });
    w.unref();
    helper = { ctl: new Int32Array(control), seq: 0 };
  } catch {
    threadsWanted = 1;
  }
  return helper;
}

// control block slots (keep in sync with parallel-worker.mjs)
const SEQ = 0;
const NEXT = 1;
const DONE = 2;
const C_OP = 3;
const C_ARGS = 4;
const C_UNITS = 5;
const C_CHUNK = 6;
const CLOSED = 0xffff;

/**
 * Runs `op` over units [0, units) with the argument block as filled by the caller: on this
 * thread alone, or split in chunks of `chunk` units with the helper when there are two threads
 * and `work` (multiply-adds or element operations in all) is worth the hand-off.
 */
export function runTask(k: KernelExports, op: OpCode, units: number, chunk: number, work: number): void {
  if (units <= 0) return;
  const big = wasmHelper && threadsWanted > 1 && units > chunk && work >= PARALLEL_MIN_WORK;
  if (big && backoff > 0) backoff--;
  const w = big && backoff === 0 ? startHelper() : null;
  if (!w) {
    k.runTask(op, ARGS_ADDR, 0, units, 0);
    return;
  }
  const chunks = Math.ceil(units / chunk);
  const ctl = w.ctl;
  w.seq = (w.seq + 1) & 0x7fffffff;
  const tag = (w.seq & 0x7fff) << 16;
  ctl[C_OP] = op;
  ctl[C_ARGS] = ARGS_ADDR;
  ctl[C_UNITS] = units;
  ctl[C_CHUNK] = chunk;
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, NEXT, tag);
  Atomics.store(ctl, SEQ, w.seq);
  Atomics.notify(ctl, SEQ);
  let mine = 0;
  for (;;) {
    const i = (Atomics.add(ctl, NEXT, 1) & 0xffff) as number;
    if (i >= chunks) break;
    k.runTask(op, ARGS_ADDR, i * chunk, Math.min(units, (i + 1) * chunk), 0);
    mine++;
  }
  // wait for the chunks the helper claimed: spin briefly (it is mid-chunk), then sleep
  const waitStart = performance.now();
  const until = waitStart + 1;
  let spins = 0;
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done + mine >= chunks) break;
    if ((++spins & 255) === 0 && performance.now() > until) Atomics.wait(ctl, DONE, done, 1);
  }
  // close the task before its arguments are overwritten: a helper that read them late, or
  // half-written, sees the closed counter and claims nothing
  Atomics.store(ctl, NEXT, tag | CLOSED);
  // A long wait means the helper was preempted mid-chunk (other processes want the cores): after
  // a few of those, run single-threaded for a while rather than stall on a descheduled thread.
  if (performance.now() - waitStart > 0.5) {
    strikes++;
    if (strikes >= 3) {
      strikes = 0;
      backoff = 400;
    }
  } else if (strikes > 0 && Math.random() < 0.05) strikes--;
}

/** Chunk size giving each thread several claims: `units` split ~16 ways, rounded up to `multiple`. */
export function chunkFor(units: number, multiple: number): number {
  return Math.max(multiple, Math.ceil(units / 16 / multiple) * multiple);
}

export { loadWasmKernel };
