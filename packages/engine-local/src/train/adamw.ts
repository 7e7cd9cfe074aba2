import { allocArray, type FArray } from "../kernels/float-array.ts";
import type { Param } from "../model/param.ts";

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  step: number;
  expAvg: Map<string, FArray>;
  expAvgSq: Map<string, FArray>;
}

export function createAdamWState(params: Param[]): AdamWState {
  const expAvg = new Map<string, FArray>();
  const expAvgSq = new Map<string, FArray>();
  for (const p of params) {
    const dtype = p.data instanceof Float64Array ? "f64" : "f32";
    expAvg.set(p.name, allocArray(dtype, p.data.length));
    expAvgSq.set(p.name, allocArray(dtype, p.data.length));
  }
  return { step: 0, expAvg, expAvgSq };
}

/**
 * transformers' Trainer leaves biases and norm weights out of weight decay; the rest follows
 * torch.optim.AdamW exactly (decoupled decay, bias-corrected moments, eps outside the sqrt).
 */
export function isDecayed(p: Param): boolean {
  return !p.name.endsWith(".bias") && !p.name.includes("norm");
}

/** One AdamW update of every param with a grad; rows below trainFromRow stay untouched. */
export function stepAdamW(params: Param[], state: AdamWState, cfg: AdamWConfig): void {
  state.step += 1;
  const bc1 = 1 - cfg.beta1 ** state.step;
  const bc2Sqrt = Math.sqrt(1 - cfg.beta2 ** state.step);
  const stepSize = cfg.lr / bc1;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    const m = state.expAvg.get(p.name)!;
    const v = state.expAvgSq.get(p.name)!;
    const decay = isDecayed(p) ? 1 - cfg.lr * cfg.weightDecay : 1;
    const start = p.trainFromRow * (p.shape[1] ?? 1);
    const w = p.data;
    for (let i = start; i < w.length; i++) {
      const gi = g[i] as number;
      const mi = cfg.beta1 * (m[i] as number) + (1 - cfg.beta1) * gi;
      const vi = cfg.beta2 * (v[i] as number) + (1 - cfg.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = (w[i] as number) * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + cfg.eps);
    }
  }
}

/** Global L2 norm of all grads; scales them down to maxNorm when above (clip_grad_norm_). */
export function clipGradNorm(params: Param[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) ss += (g[i] as number) ** 2;
  }
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) {
      const g = p.grad;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * s;
    }
  }
  return norm;
}
