import { allocLike, allocOutputLike, type FArray } from "../../kernels/float-array.ts";
import { matmul } from "../../kernels/matmul.ts";
import type { Rng } from "../../kernels/rng.ts";
import type { Linear } from "../llama-model.ts";

/** What the backward pass of one Linear needs from its forward pass. */
export interface LinearCache {
  x: FArray;
  /** dropout(x) fed to LoRA A (x itself when dropout is off) */
  xd: FArray | null;
  /** scale · A(xd), [rows, r] */
  us: FArray | null;
}

/** y = x Wᵀ + b + scale · (dropout(x) Aᵀ) Bᵀ, x [rows, in] → y [rows, out]. */
export function linearForward(
  lin: Linear,
  x: FArray,
  rows: number,
  rng: Rng | null,
): { y: FArray; cache: LinearCache } {
  const { inFeatures: K, outFeatures: N } = lin;
  const y = allocOutputLike(x, rows * N);
  matmul(x, lin.weight.data, y, rows, K, N, { transB: true });
  if (lin.bias) {
    const b = lin.bias.data;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < N; j++) y[i * N + j] = (y[i * N + j] as number) + (b[j] as number);
  }
  const cache: LinearCache = { x, xd: null, us: null };
  const lora = lin.lora;
  if (lora) {
    let xd = x;
    if (lora.dropout > 0 && rng) {
      // inverted dropout: kept entries are scaled by 1/(1−p) so the expectation is unchanged
      xd = allocLike(x, x.length);
      const keep = 1 / (1 - lora.dropout);
      for (let i = 0; i < rows * K; i++) xd[i] = rng.next() < lora.dropout ? 0 : (x[i] as number) * keep;
    }
    const us = allocOutputLike(x, rows * lora.r);
    matmul(xd, lora.a.data, us, rows, K, lora.r, { transB: true, alpha: lora.scale });
    matmul(us, lora.b.data, y, rows, lora.r, N, { transB: true, accumulate: true });
    cache.xd = xd;
    cache.us = us;
  }
  return { y, cache };
}

/**
 * Accumulates parameter gradients (for params that train) and returns dx, or null when
 * `needDx` is false (the first layer's input needs no gradient when the embedding is frozen).
 */
export function linearBackward(
  lin: Linear,
  cache: LinearCache,
  dy: FArray,
  rows: number,
  needDx: boolean,
): FArray | null {
  const { inFeatures: K, outFeatures: N } = lin;
  const { x } = cache;
  let dx: FArray | null = null;
  if (needDx) {
    dx = allocOutputLike(dy, rows * K);
    matmul(dy, lin.weight.data, dx, rows, N, K);
  }
  const w = lin.weight;
  if (w.grad) matmul(dy, x, w.grad, N, rows, K, { transA: true, accumulate: true });
  if (lin.bias?.grad) {
    const g = lin.bias.grad;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < N; j++) g[j] = (g[j] as number) + (dy[i * N + j] as number);
  }
  const lora = lin.lora;
  if (lora && cache.us && cache.xd) {
    const r = lora.r;
    if (lora.b.grad) matmul(dy, cache.us, lora.b.grad, N, rows, r, { transA: true, accumulate: true });
    const du = allocOutputLike(dy, rows * r);
    matmul(dy, lora.b.data, du, rows, N, r, { alpha: lora.scale });
    if (lora.a.grad) matmul(du, cache.xd, lora.a.grad, r, rows, K, { transA: true, accumulate: true });
    if (dx && cache.xd === x) {
      matmul(du, lora.a.data, dx, rows, r, K, { accumulate: true });
    } else if (dx) {
      const dxd = allocOutputLike(dy, rows * K);
      matmul(du, lora.a.data, dxd, rows, r, K);
      // dropout's backward routes through the same mask: xd/x is 0 or 1/(1−p) wherever x ≠ 0
      const keep = 1 / (1 - lora.dropout);
      for (let i = 0; i < dxd.length; i++)
        dx[i] = (dx[i] as number) + (dxd[i] as number) * (cache.xd[i] === 0 ? 0 : keep);
    }
  }
  return dx;
}
