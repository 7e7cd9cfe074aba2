import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
import { allocOutputLike, type FArray } from "../../kernels/float-array.ts";
import { nativeOps } from "../../kernels/matmul.ts";
import { chunkFor, getMatmulThreads, OP, runTask, taskArgs } from "../../kernels/parallel.ts";
import { copyAllToScratch, copyToScratch, heapF32 } from "../../kernels/wasm-memory.ts";

/** y = x · r · w with r = 1/√(mean(x²) + eps), per row of width d (HF LlamaRMSNorm). */
export function rmsnormForward(
  x: FArray,
  w: FArray,
  rows: number,
  d: number,
  eps: number,
): { y: FArray; rinv: FArray } {
  const y = allocOutputLike(x, rows * d);
  const rinv = allocOutputLike(x, rows);
  const native = nativeOps();
  if (
    native &&
    x instanceof Float32Array &&
    w instanceof Float32Array &&
    y instanceof Float32Array &&
    rinv instanceof Float32Array
  ) {
    native.rmsnormForward(x, w, y, rinv, rows, d, eps, getMatmulThreads());
    return { y, rinv };
  }
  const k = d % 4 === 0 ? kernelForArena(x, y, rinv) : null;
  if (k) {
    const { i32, f32 } = taskArgs();
    i32[0] = x.byteOffset;
    i32[1] = copyToScratch(w);
    i32[2] = y.byteOffset;
    i32[3] = rinv.byteOffset;
    i32[4] = d;
    f32[5] = eps;
    runTask(k, OP.rmsnormForward, rows, chunkFor(rows, 1), rows * d * 3);
    return { y, rinv };
  }
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (x[o + j] as number) ** 2;
    const r = 1 / Math.sqrt(ss / d + eps);
    rinv[i] = r;
    for (let j = 0; j < d; j++) y[o + j] = (x[o + j] as number) * r * (w[j] as number);
  }
  return { y, rinv };
}

/**
 * dx = r · (g − x̂ · mean(g · x̂)) with g = dy · w and x̂ = x · r; dw += Σ_rows dy · x̂.
 * dx is accumulated into `dx` (the residual stream's gradient).
 */
export function rmsnormBackward(
  x: FArray,
  w: FArray,
  rinv: FArray,
  dy: FArray,
  dx: FArray,
  dw: FArray | null,
  rows: number,
  d: number,
): void {
  const native = nativeOps();
  if (
    native &&
    x instanceof Float32Array &&
    w instanceof Float32Array &&
    rinv instanceof Float32Array &&
    dy instanceof Float32Array &&
    dx instanceof Float32Array &&
    (dw === null || dw instanceof Float32Array)
  ) {
    native.rmsnormBackward(x, w, rinv, dy, dx, dw, rows, d, getMatmulThreads());
    return;
  }
  const k = d % 4 === 0 ? kernelForArena(x, rinv, dy, dx) : null;
  if (k && dw instanceof Float32Array) {
    const [pw, pdw] = copyAllToScratch([w, dw]) as [number, number];
    k.rmsnormBackwardWithWeightGrad(
      x.byteOffset,
      pw,
      rinv.byteOffset,
      dy.byteOffset,
      dx.byteOffset,
      pdw,
      rows,
      d,
    );
    dw.set(heapF32().subarray(pdw / 4, pdw / 4 + d));
    return;
  }
  if (k && !dw) {
    const { i32 } = taskArgs();
    i32[0] = x.byteOffset;
    i32[1] = copyToScratch(w);
    i32[2] = rinv.byteOffset;
    i32[3] = dy.byteOffset;
    i32[4] = dx.byteOffset;
    i32[5] = d;
    runTask(k, OP.rmsnormBackward, rows, chunkFor(rows, 1), rows * d * 6);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const r = rinv[i] as number;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (dy[o + j] as number) * (w[j] as number) * (x[o + j] as number) * r;
    const mean = dot / d;
    for (let j = 0; j < d; j++) {
      const xhat = (x[o + j] as number) * r;
      const g = (dy[o + j] as number) * (w[j] as number);
      dx[o + j] = (dx[o + j] as number) + r * (g - xhat * mean);
      if (dw) dw[j] = (dw[j] as number) + (dy[o + j] as number) * xhat;
    }
  }
}
