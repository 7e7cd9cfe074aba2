import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { ensureBytes, getSharedMemory, heapF32, scratchStart } from "./wasm-memory.ts";

/**
 * Loads the AssemblyScript module (build/*.wasm, compiled by `npm run build` from assembly/)
 * over the shared linear memory of wasm-memory.ts. parallel.ts runs its tasks on one or two
 * threads; matmul-wasm.ts and the ops call into it.
 */
export interface KernelExports {
  /** the loader's soundness check */
  matmulNN(a: number, b: number, c: number, M: number, K: number, N: number, accumulate: number): void;
  /** see assembly/tasks.ts: op over units [start, end) of the argument block at `args` */
  runTask(op: number, args: number, start: number, end: number, thread: number): void;
  expShiftedRow(x: number, out: number, n: number, max: number): number;
  rmsnormBackwardWithWeightGrad(
    x: number,
    w: number,
    rinv: number,
    dy: number,
    dx: number,
    dw: number,
    rows: number,
    d: number,
  ): void;
  decodeAttention(
    q: number,
    K: number,
    V: number,
    out: number,
    scores: number,
    n: number,
    pos0: number,
    H: number,
    KVH: number,
    hd: number,
    scale: number,
  ): void;
}

const WASM_PATH = fileURLToPath(new URL("../../build/matmul.wasm", import.meta.url));
const RELAXED_WASM_PATH = fileURLToPath(new URL("../../build/matmul-relaxed.wasm", import.meta.url));

let kernel: KernelExports | null | undefined;
let kernelPath = "";
let kernelVariant: "relaxed-simd" | "simd" | null = null;
let memory: WebAssembly.Memory | null = null;

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

/** the .wasm file the loaded kernel came from (the helper thread loads the same one) */
export function getKernelPath(): string {
  loadWasmKernel();
  return kernelPath;
}
