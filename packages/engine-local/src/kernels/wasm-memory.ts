/**
 * The kernel's shared linear memory, and a bump arena in it for one training step's
 * temporaries. Tensors allocated in the arena are Float32Array views of wasm memory, so the
 * matmul kernel reads and writes them in place instead of copying them in and out; everything
 * else (weights, grads, optimizer state) stays in ordinary JS memory. The memory is shared, and
 * growing a shared memory never detaches existing views, so arena views stay valid as it grows.
 */
export const BASE = 65536;
const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB: byte offsets stay below 2³¹ as JS numbers and wasm i32s
/**
 * Arena tensors stop this far below the 2 GiB top: once a step's activations outgrow the arena
 * (a 135M student at 4×512 tokens), later tensors are plain JS arrays, which the native kernels
 * use in place and the wasm ops copy into scratch above the arena; that scratch must exist.
 */
const SCRATCH_RESERVE = 512 << 20;
const ARENA_LIMIT = MAX_PAGES * PAGE - SCRATCH_RESERVE;

let memory: WebAssembly.Memory | null | undefined;
let heap: Float32Array<ArrayBufferLike> = new Float32Array(0);
let arenaTop = BASE;
let arenaDepth = 0;
const arenaBuffers = new WeakSet<ArrayBufferLike>();
/** the memory's buffer object and size as last seen; refreshed only when the memory grows */
let currentBuffer: ArrayBufferLike | null = null;
let knownBytes = 0;

export function getSharedMemory(): WebAssembly.Memory | null {
  if (memory === undefined) {
    try {
      memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    } catch {
      memory = null;
    }
  }
  return memory;
}

/** Grows the memory to hold `endByte` bytes; false when that exceeds the maximum. */
export function ensureBytes(endByte: number): boolean {
  const mem = getSharedMemory();
  if (!mem) return false;
  if (endByte <= knownBytes) return true;
  const have = mem.buffer.byteLength;
  if (endByte > have) {
    const pages = Math.ceil((endByte - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    mem.grow(pages);
  }
  currentBuffer = mem.buffer;
  arenaBuffers.add(currentBuffer);
  knownBytes = currentBuffer.byteLength;
  return true;
}

/** A float view of the whole memory, refreshed after growth. */
export function heapF32(): Float32Array<ArrayBufferLike> {
  const mem = getSharedMemory();
  if (!mem) throw new Error("no shared wasm memory");
  if (heap.byteLength !== knownBytes || heap.buffer !== currentBuffer) {
    ensureBytes(BASE);
    heap = new Float32Array(currentBuffer ?? mem.buffer);
  }
  return heap;
}

function align16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * A float32 tensor in the arena (zeroed unless `uninitialized`), or null when no arena is open
 * or it is full. Uninitialized tensors hold the previous micro-batch's bytes: only for outputs
 * that the producing op overwrites entirely.
 */
export function allocArenaF32(n: number, uninitialized = false): Float32Array | null {
  if (arenaDepth === 0 || n === 0) return null;
  const at = align16(arenaTop);
  if (at + n * 4 > ARENA_LIMIT || !ensureBytes(at + n * 4) || !currentBuffer) return null;
  const view = new Float32Array(currentBuffer, at, n);
  if (!uninitialized) view.fill(0);
  arenaTop = at + n * 4;
  return view;
}

/** An int32 tensor in the arena (zeroed), or null as allocArenaF32. */
export function allocArenaI32(n: number): Int32Array | null {
  const f = allocArenaF32(n);
  return f ? new Int32Array(f.buffer, f.byteOffset, n) : null;
}

export function isArenaView(a: ArrayBufferView): boolean {
  return arenaBuffers.has(a.buffer);
}

/** First free byte above the arena: where a matmul may put temporary copies. */
export function scratchStart(): number {
  return align16(arenaTop);
}

/**
 * Copies a small JS-owned tensor (a norm weight) into scratch space and returns its byte address;
 * valid until the next arena allocation or product.
 */
export function copyToScratch(a: ArrayLike<number>): number {
  return copyAllToScratch([a])[0] as number;
}

/** copyToScratch for several tensors at once, laid out one after the other. */
export function copyAllToScratch(arrays: ArrayLike<number>[]): number[] {
  let at = scratchStart();
  const out: number[] = [];
  for (const a of arrays) {
    if (!ensureBytes(at + a.length * 4)) throw new Error("wasm memory is full");
    heapF32().set(a, at / 4);
    out.push(at);
    at = align16(at + a.length * 4);
  }
  return out;
}

/**
 * Runs `fn` with float32 temporaries allocated in the arena, then frees them all. Nothing
 * allocated inside may be used after `fn` returns: callers return plain numbers.
 */
export function runInArena<T>(fn: () => T): T {
  const leave = enterArena();
  try {
    return fn();
  } finally {
    leave();
  }
}

/**
 * Runs `fill`, whose arena allocations then stay until the returned function runs, without
 * leaving an arena open: code outside any span still gets plain arrays (nothing leaks into the
 * pinned region), and spans opened later start above it. Release in LIFO order with other spans.
 */
export function allocPinned(fill: () => void): () => void {
  if (!getSharedMemory()) {
    fill();
    return () => {};
  }
  const saved = arenaTop;
  arenaDepth++;
  try {
    fill();
  } finally {
    arenaDepth--;
  }
  return () => {
    arenaTop = saved;
  };
}

/**
 * runInArena as a pair of calls, for a span that awaits (the training loop): everything
 * allocated after enterArena() is freed by the function it returns. Spans nest like calls.
 */
export function enterArena(): () => void {
  if (!getSharedMemory()) return () => {};
  const saved = arenaTop;
  arenaDepth++;
  return () => {
    arenaDepth--;
    arenaTop = saved;
  };
}
