import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
import { allocLike, type FArray } from "../../kernels/float-array.ts";
import { matmul } from "../../kernels/matmul.ts";

/**
 * Causal grouped-query attention over a batch of right-padded sequences. Right padding needs no
 * mask beyond causality: real tokens never attend to the pads after them, and pads' outputs are
 * excluded from the loss. Each (batch, head) pair is gathered into contiguous [T, hd] blocks so
 * the products go through the matmul kernel.
 */
export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

function gather(src: FArray, dst: FArray, b: number, h: number, s: AttentionShape, width: number): void {
  const { seq: T, headDim: hd } = s;
  for (let t = 0; t < T; t++) {
    const o = (b * T + t) * width + h * hd;
    for (let i = 0; i < hd; i++) dst[t * hd + i] = src[o + i] as number;
  }
}

function scatterAdd(src: FArray, dst: FArray, b: number, h: number, s: AttentionShape, width: number): void {
  const { seq: T, headDim: hd } = s;
  for (let t = 0; t < T; t++) {
    const o = (b * T + t) * width + h * hd;
    for (let i = 0; i < hd; i++) dst[o + i] = (dst[o + i] as number) + (src[t * hd + i] as number);
  }
}

/** Returns the output [B·T, H·hd] and the attention probabilities [B, H, T, T] for backward. */
export function attentionForward(
  q: FArray,
  k: FArray,
  v: FArray,
  s: AttentionShape,
): { out: FArray; probs: FArray } {
  const { batch: B, seq: T, heads: H, kvHeads: KVH, headDim: hd } = s;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const out = allocLike(q, B * T * H * hd);
  const probs = allocLike(q, B * H * T * T);
  const qb = allocLike(q, T * hd);
  const kb = allocLike(q, T * hd);
  const vb = allocLike(q, T * hd);
  const ob = allocLike(q, T * hd);
  const sc = allocLike(q, T * T);
  const wasm = kernelForArena(sc, probs);
  for (let b = 0; b < B; b++) {
    for (let kh = 0; kh < KVH; kh++) {
      gather(k, kb, b, kh, s, KVH * hd);
      gather(v, vb, b, kh, s, KVH * hd);
      for (let g = 0; g < group; g++) {
        const h = kh * group + g;
        gather(q, qb, b, h, s, H * hd);
        matmul(qb, kb, sc, T, hd, T, { transB: true });
        const p = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        if (wasm) wasm.causalSoftmax(sc.byteOffset, p.byteOffset, T, scale);
        else causalSoftmaxJs(sc, p, T, scale);
        matmul(p, vb, ob, T, T, hd);
        scatterAdd(ob, out, b, h, s, H * hd);
      }
    }
  }
  return { out, probs };
}

function causalSoftmaxJs(sc: FArray, p: FArray, T: number, scale: number): void {
  for (let i = 0; i < T; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= i; j++) max = Math.max(max, (sc[i * T + j] as number) * scale);
    let sum = 0;
    for (let j = 0; j <= i; j++) {
      const e = Math.exp((sc[i * T + j] as number) * scale - max);
      p[i * T + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j <= i; j++) p[i * T + j] = (p[i * T + j] as number) * inv;
    for (let j = i + 1; j < T; j++) p[i * T + j] = 0;
  }
}

/** Gradients of q, k, v from dOut, using the cached probabilities. */
export function attentionBackward(
  q: FArray,
  k: FArray,
  v: FArray,
  probs: FArray,
  dout: FArray,
  s: AttentionShape,
): { dq: FArray; dk: FArray; dv: FArray } {
  const { batch: B, seq: T, heads: H, kvHeads: KVH, headDim: hd } = s;
  const group = H / KVH;
  const scale = 1 / Math.sqrt(hd);
  const dq = allocLike(q, q.length);
  const dk = allocLike(q, k.length);
  const dv = allocLike(q, v.length);
  const qb = allocLike(q, T * hd);
  const kb = allocLike(q, T * hd);
  const vb = allocLike(q, T * hd);
  const dob = allocLike(q, T * hd);
  const tmp = allocLike(q, T * hd);
  const dkb = allocLike(q, T * hd);
  const dvb = allocLike(q, T * hd);
  const dp = allocLike(q, T * T);
  const wasm = kernelForArena(probs, dp);
  for (let b = 0; b < B; b++) {
    for (let kh = 0; kh < KVH; kh++) {
      gather(k, kb, b, kh, s, KVH * hd);
      gather(v, vb, b, kh, s, KVH * hd);
      dkb.fill(0);
      dvb.fill(0);
      for (let g = 0; g < group; g++) {
        const h = kh * group + g;
        gather(q, qb, b, h, s, H * hd);
        gather(dout, dob, b, h, s, H * hd);
        const p = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        // dV += Pᵀ dO ; dP = dO Vᵀ
        matmul(p, dob, dvb, T, T, hd, { transA: true, accumulate: true });
        matmul(dob, vb, dp, T, hd, T, { transB: true });
        // softmax backward: dS = P ⊙ (dP − rowsum(dP ⊙ P)), then the 1/√hd scale
        for (let i = 0; i < T; i++) {
          let dot = 0;
          for (let j = 0; j <= i; j++) dot += (dp[i * T + j] as number) * (p[i * T + j] as number);
          for (let j = 0; j <= i; j++)
            dp[i * T + j] = (p[i * T + j] as number) * ((dp[i * T + j] as number) - dot) * scale;
          for (let j = i + 1; j < T; j++) dp[i * T + j] = 0;
        }
        // dQ = dS K ; dK += dSᵀ Q
        matmul(dp, kb, tmp, T, T, hd);
        scatterAdd(tmp, dq, b, h, s, H * hd);
        matmul(dp, qb, dkb, T, T, hd, { transA: true, accumulate: true });
      }
      scatterAdd(dkb, dk, b, kh, s, KVH * hd);
      scatterAdd(dvb, dv, b, kh, s, KVH * hd);
    }
  }
  return { dq, dk, dv };
}
