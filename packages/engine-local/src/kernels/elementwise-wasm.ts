import type { FArray } from "./float-array.ts";
import { type KernelExports, loadWasmKernel } from "./wasm-kernel.ts";
import { isArenaView } from "./wasm-memory.ts";

/**
 * The wasm elementwise kernels apply when every operand is a float32 tensor in the step arena
 * (training and eval); float64 gradient checks and tensors outside the arena use the JS loops.
 */
export function kernelForArena(...arrays: FArray[]): KernelExports | null {
  for (const a of arrays) if (!(a instanceof Float32Array) || !isArenaView(a)) return null;
  return loadWasmKernel();
}
