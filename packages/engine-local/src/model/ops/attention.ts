import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
import { allocLike, allocOutputLike, type FArray } from "../../kernels/float-array.ts";
import { activeNativeVariant, matmul, nativeOps } from "../../kernels/matmul.ts";
import { getMatmulThreads, OP, runTask, taskArgs } from "../../kernels/parallel.ts";
import type { KernelExports } from "../../kernels/wasm-kernel.ts";
import { isArenaView } from "../../kernels/wasm-memory.ts";

/**
 * Causal grouped-query attention over a batch of right-padded sequences. Right padding needs no
 * mask beyond causality: real tokens never attend to the pads after them, and pads' outputs are
 * excluded from the loss. A packed batch (several examples per sequence) gives `segStart`: row
 * i of a sequence attends only to keys j with segStart[i] ≤ j ≤ i, its own example.
 *
 * float32 tensors in the step arena go to the wasm kernel (assembly/attention.ts), one task per
 * (batch, kv-head) pair, shared between the threads; the JS loops below are the reference
 * (float64 gradient checks) and the fallback.
 */
export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** packed batches: per row, the position (within its sequence) where its example starts */
  segStart?: Int32Array | null;
}

/** The native path applies when products run natively and every tensor is float32 (anywhere). */
function nativeFor(s: AttentionShape, ...xs: FArray[]) {
  const native = nativeOps();
  const variant = activeNativeVariant();
  if (!native || !variant) return null;
  if (s.segStart && !(s.segStart instanceof Int32Array)) return null;
  for (const x of xs) if (!(x instanceof Float32Array)) return null;
  return { native, variant };
}

/** The wasm path applies when every tensor is float32 in the arena (segStart too, when given). */
function wasmFor(s: AttentionShape, ...xs: FArray[]): KernelExports | null {
  if (s.segStart && !isArenaView(s.segStart as unknown as Float32Array)) return null;
  return kernelForArena(...xs);
}

/** Fills the argument block of assembly/attention.ts; returns the per-thread scratch it points at. */
function fillArgs(
  s: AttentionShape,
  q: FArray,
  k: FArray,
  v: FArray,
  probs: FArray,
  scratch: FArray,
): Int32Array {
  const { batch: B, seq: T, heads: H, kvHeads: KVH, headDim: hd } = s;
  const { i32, f32 } = taskArgs();
  i32[0] = q.byteOffset;
  i32[1] = k.byteOffset;
  i32[2] = v.byteOffset;
  i32[4] = probs.byteOffset;
  i32[5] = B;
  i32[6] = T;
  i32[7] = H;
  i32[8] = KVH;
  i32[9] = hd;
  f32[10] = 1 / Math.sqrt(hd);
  i32[11] = s.segStart ? s.segStart.byteOffset : 0;
  i32[12] = scratch.byteOffset;
  i32[13] = (scratch.length / 2) * 4;
  return i32;
}

/** multiply-adds of one direction of attention, for the parallel hand-off decision */
function attentionWork(s: AttentionShape): number {
  return s.batch * s.heads * s.seq * s.seq * s.headDim;
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
  const out = allocOutputLike(q, B * T * H * hd);
  const probs = allocOutputLike(q, B * H * T * T);
  const nat = nativeFor(s, q, k, v, out, probs);
  if (nat) {
    nat.native.attentionForward(
      q as Float32Array,
      k as Float32Array,
      v as Float32Array,
      out as Float32Array,
      probs as Float32Array,
      s.segStart ?? null,
      B,
      T,
      H,
      KVH,
      hd,
      getMatmulThreads(),
      nat.variant,
    );
    return { out, probs };
  }
  const k32 = wasmFor(s, q, k, v, out, probs);
  if (k32) {
    const scratch = allocOutputLike(q, 2 * hd * T);
    const args = fillArgs(s, q, k, v, probs, scratch);
    args[3] = out.byteOffset;
    runTask(k32, OP.attentionForward, B * KVH, 1, attentionWork(s));
    return { out, probs };
  }
  out.fill(0);
  const qb = allocLike(q, T * hd);
  const kb = allocLike(q, T * hd);
  const vb = allocLike(q, T * hd);
  const ob = allocLike(q, T * hd);
  const sc = allocLike(q, T * T);
  for (let b = 0; b < B; b++) {
    for (let kh = 0; kh < KVH; kh++) {
      gather(k, kb, b, kh, s, KVH * hd);
      gather(v, vb, b, kh, s, KVH * hd);
      for (let g = 0; g < group; g++) {
        const h = kh * group + g;
        gather(q, qb, b, h, s, H * hd);
        matmul(qb, kb, sc, T, hd, T, { transB: true });
        const p = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        causalSoftmaxJs(sc, p, T, scale, s.segStart ? s.segStart.subarray(b * T, (b + 1) * T) : null);
        matmul(p, vb, ob, T, T, hd);
        scatterAdd(ob, out, b, h, s, H * hd);
      }
    }
  }
  return { out, probs };
}

function causalSoftmaxJs(sc: FArray, p: FArray, T: number, scale: number, seg: Int32Array | null): void {
  for (let i = 0; i < T; i++) {
    const lo = seg ? (seg[i] as number) : 0;
    for (let j = 0; j < lo; j++) p[i * T + j] = 0;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = lo; j <= i; j++) max = Math.max(max, (sc[i * T + j] as number) * scale);
    let sum = 0;
    for (let j = lo; j <= i; j++) {
      const e = Math.exp((sc[i * T + j] as number) * scale - max);
      p[i * T + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = lo; j <= i; j++) p[i * T + j] = (p[i * T + j] as number) * inv;
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
  const dq = allocOutputLike(q, q.length);
  const dk = allocLike(q, k.length);
  const dv = allocLike(q, v.length);
  const nat = nativeFor(s, q, k, v, probs, dout, dq, dk, dv);
  if (nat) {
    nat.native.attentionBackward(
      q as Float32Array,
      k as Float32Array,
      v as Float32Array,
      probs as Float32Array,
      dout as Float32Array,
      dq as Float32Array,
      dk as Float32Array,
      dv as Float32Array,
      B,
      T,
      H,
      KVH,
      hd,
      getMatmulThreads(),
      nat.variant,
    );
    return { dq, dk, dv };
  }
  const k32 = wasmFor(s, q, k, v, probs, dout, dq, dk, dv);
  if (k32) {
    const scratch = allocOutputLike(q, 2 * (hd * T + T * T));
    const args = fillArgs(s, q, k, v, probs, scratch);
    args[14] = dout.byteOffset;
    args[15] = dq.byteOffset;
    args[16] = dk.byteOffset;
    args[17] = dv.byteOffset;
    runTask(k32, OP.attentionBackward, B * KVH, 1, 2 * attentionWork(s));
    return { dq, dk, dv };
  }
  dq.fill(0);
  const qb = allocLike(q, T * hd);
  const kb = allocLike(q, T * hd);
  const vb = allocLike(q, T * hd);
  const dob = allocLike(q, T * hd);
  const tmp = allocLike(q, T * hd);
  const dkb = allocLike(q, T * hd);
  const dvb = allocLike(q, T * hd);
  const dp = allocLike(q, T * T);
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
