// Causal grouped-query attention for one (batch, kv-head) pair at a time, reading q/k/v and
// writing out/dq/dk/dv in their [rows, heads·hd] layout (no gather copies). The products go
// through gemm on the causal part only; rows may be restricted to their packed segment: row i
// attends to keys j with seg[i] ≤ j ≤ i (seg = 0 when the batch is not packed).
import { arg, argF, argI } from "./args";
import { causalSoftmaxBackward } from "./elementwise";
import { gemm, transposeStrided } from "./matmul";
import { expScalar, expv, hsum } from "./simd-math";

/** Layout of the argument block (i32 slots) that src/model/ops/attention.ts fills. */
const A_Q = 0;
const A_K = 1;
const A_V = 2;
const A_OUT = 3;
const A_PROBS = 4;
const A_B = 5;
const A_T = 6;
const A_H = 7;
const A_KVH = 8;
const A_HD = 9;
const A_SCALE = 10;
const A_SEG = 11;
const A_SCRATCH = 12;
const A_SCRATCH_BYTES = 13;
const A_DOUT = 14;
const A_DQ = 15;
const A_DK = 16;
const A_DV = 17;

/** columns of a row block [i0, i0+m) worth computing: up to the diagonal, rounded up to 8 */
@inline
function causalCols(i0: i32, m: i32, T: i32): i32 {
  const n = (i0 + m + 7) & ~7;
  return n < T ? n : T;
}

/** p[lo..=i] = softmax(scale·s[lo..=i]) in place, 0 elsewhere in [0, T). */
function softmaxRow(p: usize, lo: i32, i: i32, T: i32, scale: f32): void {
  const n = i + 1 - lo;
  const s = p + ((<usize>lo) << 2);
  let max: f32 = -Infinity;
  for (let j = 0; j < n; j++) max = Mathf.max(max, load<f32>(s + ((<usize>j) << 2)) * scale);
  const m = f32x4.splat(max);
  const sv = f32x4.splat(scale);
  let acc = f32x4.splat(0);
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const o = (<usize>j) << 2;
    const e = expv(f32x4.sub(f32x4.mul(v128.load(s + o), sv), m));
    v128.store(s + o, e);
    acc = f32x4.add(acc, e);
  }
  let sum = hsum(acc);
  for (let j = n4; j < n; j++) {
    const o = (<usize>j) << 2;
    const e = expScalar(load<f32>(s + o) * scale - max);
    store<f32>(s + o, e);
    sum += e;
  }
  const invS: f32 = 1 / sum;
  const inv = f32x4.splat(invS);
  for (let j = 0; j < n4; j += 4) {
    const o = (<usize>j) << 2;
    v128.store(s + o, f32x4.mul(v128.load(s + o), inv));
  }
  for (let j = n4; j < n; j++) {
    const o = (<usize>j) << 2;
    store<f32>(s + o, load<f32>(s + o) * invS);
  }
  for (let j = 0; j < lo; j++) store<f32>(p + ((<usize>j) << 2), 0);
  for (let j = i + 1; j < T; j++) store<f32>(p + ((<usize>j) << 2), 0);
}

/**
 * Forward for units [u0, u1) of B·KVH (batch, kv-head) pairs: probs [B, H, T, T] and out.
 * Scratch (per thread): Kᵀ [hd, T].
 */
export function attentionForwardUnits(args: usize, u0: i32, u1: i32, thread: i32): void {
  const T = argI(args, A_T);
  const H = argI(args, A_H);
  const KVH = argI(args, A_KVH);
  const hd = argI(args, A_HD);
  const scale = argF(args, A_SCALE);
  const seg = arg(args, A_SEG);
  const kT = arg(args, A_SCRATCH) + <usize>thread * arg(args, A_SCRATCH_BYTES);
  const group = H / KVH;
  const rowQ = (<usize>(H * hd)) << 2;
  const rowKV = (<usize>(KVH * hd)) << 2;
  const rowP = (<usize>T) << 2;
  for (let u = u0; u < u1; u++) {
    const b = u / KVH;
    const kvh = u % KVH;
    const kBase = arg(args, A_K) + <usize>(b * T) * rowKV + ((<usize>(kvh * hd)) << 2);
    const vBase = arg(args, A_V) + <usize>(b * T) * rowKV + ((<usize>(kvh * hd)) << 2);
    transposeStrided(kBase, rowKV, kT, T, hd);
    for (let g = 0; g < group; g++) {
      const h = kvh * group + g;
      const qBase = arg(args, A_Q) + <usize>(b * T) * rowQ + ((<usize>(h * hd)) << 2);
      const oBase = arg(args, A_OUT) + <usize>(b * T) * rowQ + ((<usize>(h * hd)) << 2);
      const P = arg(args, A_PROBS) + <usize>((b * H + h) * T) * rowP;
      for (let i0 = 0; i0 < T; i0 += 4) {
        const m = min(4, T - i0);
        gemm(qBase + <usize>i0 * rowQ, rowQ, 4, kT, rowP, P + <usize>i0 * rowP, rowP, m, hd, causalCols(i0, m, T), 0, 1);
      }
      for (let i = 0; i < T; i++) {
        const lo = seg != 0 ? load<i32>(seg + ((<usize>(b * T + i)) << 2)) : 0;
        softmaxRow(P + <usize>i * rowP, lo, i, T, scale);
      }
      for (let i0 = 0; i0 < T; i0 += 4) {
        const m = min(4, T - i0);
        // P's rows end at the diagonal, so K stops at i0+m
        gemm(P + <usize>i0 * rowP, rowP, 4, vBase, rowKV, oBase + <usize>i0 * rowQ, rowQ, m, i0 + m, hd, 0, 1);
      }
    }
  }
}

/**
 * Backward for units [u0, u1): dq (written), dk and dv (accumulated; the caller zeroes them).
 * Scratch (per thread): Vᵀ [hd, T] then dP [T, T].
 */
export function attentionBackwardUnits(args: usize, u0: i32, u1: i32, thread: i32): void {
  const T = argI(args, A_T);
  const H = argI(args, A_H);
  const KVH = argI(args, A_KVH);
  const hd = argI(args, A_HD);
  const scale = argF(args, A_SCALE);
  const vT = arg(args, A_SCRATCH) + <usize>thread * arg(args, A_SCRATCH_BYTES);
  const dP = vT + ((<usize>(hd * T)) << 2);
  const group = H / KVH;
  const rowQ = (<usize>(H * hd)) << 2;
  const rowKV = (<usize>(KVH * hd)) << 2;
  const rowP = (<usize>T) << 2;
  for (let u = u0; u < u1; u++) {
    const b = u / KVH;
    const kvh = u % KVH;
    const kvOff = <usize>(b * T) * rowKV + ((<usize>(kvh * hd)) << 2);
    const kBase = arg(args, A_K) + kvOff;
    const vBase = arg(args, A_V) + kvOff;
    const dkBase = arg(args, A_DK) + kvOff;
    const dvBase = arg(args, A_DV) + kvOff;
    transposeStrided(vBase, rowKV, vT, T, hd);
    for (let g = 0; g < group; g++) {
      const h = kvh * group + g;
      const qOff = <usize>(b * T) * rowQ + ((<usize>(h * hd)) << 2);
      const qBase = arg(args, A_Q) + qOff;
      const doBase = arg(args, A_DOUT) + qOff;
      const dqBase = arg(args, A_DQ) + qOff;
      const P = arg(args, A_PROBS) + <usize>((b * H + h) * T) * rowP;
      // dV += Pᵀ dO: key rows j0.., over query rows t ≥ j0 (P[t][j] = 0 for t < j)
      for (let j0 = 0; j0 < T; j0 += 4) {
        const m = min(4, T - j0);
        gemm(P + <usize>j0 * rowP + ((<usize>j0) << 2), 4, rowP, doBase + <usize>j0 * rowQ, rowQ,
          dvBase + <usize>j0 * rowKV, rowKV, m, T - j0, hd, 1, 1);
      }
      // dP = dO Vᵀ on the causal part, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
      for (let i0 = 0; i0 < T; i0 += 4) {
        const m = min(4, T - i0);
        gemm(doBase + <usize>i0 * rowQ, rowQ, 4, vT, rowP, dP + <usize>i0 * rowP, rowP, m, hd, causalCols(i0, m, T), 0, 1);
      }
      causalSoftmaxBackward(P, dP, T, scale);
      // dQ = dS K ; dK += dSᵀ Q
      for (let i0 = 0; i0 < T; i0 += 4) {
        const m = min(4, T - i0);
        gemm(dP + <usize>i0 * rowP, rowP, 4, kBase, rowKV, dqBase + <usize>i0 * rowQ, rowQ, m, i0 + m, hd, 0, 1);
      }
      for (let j0 = 0; j0 < T; j0 += 4) {
        const m = min(4, T - j0);
        gemm(dP + <usize>j0 * rowP + ((<usize>j0) << 2), 4, rowP, qBase + <usize>j0 * rowQ, rowQ,
          dkBase + <usize>j0 * rowKV, rowKV, m, T - j0, hd, 1, 1);
      }
    }
  }
}

/**
 * Attention of `n` new query rows against a KV cache (decoding): row i sits at position
 * pos0 + i and attends to cached positions 0..pos0+i. q and out are [n, H·hd], K and V
 * [positions, KVH·hd]; out is overwritten. `scores` holds pos0 + n floats of scratch.
 */
export function decodeAttention(
  q: usize, K: usize, V: usize, out: usize, scores: usize,
  n: i32, pos0: i32, H: i32, KVH: i32, hd: i32, scale: f32,
): void {
  const group = H / KVH;
  const rowKV = (<usize>(KVH * hd)) << 2;
  const hd4 = hd & ~3;
  for (let i = 0; i < n; i++) {
    const p = pos0 + i;
    for (let h = 0; h < H; h++) {
      const kh = h / group;
      const qo = q + ((<usize>(i * H * hd + h * hd)) << 2);
      const oo = out + ((<usize>(i * H * hd + h * hd)) << 2);
      const headOff = (<usize>(kh * hd)) << 2;
      let max: f32 = -Infinity;
      for (let j = 0; j <= p; j++) {
        const ko = K + <usize>j * rowKV + headOff;
        let acc = f32x4.splat(0);
        for (let t = 0; t < hd4; t += 4) {
          const o = (<usize>t) << 2;
          acc = f32x4.add(acc, f32x4.mul(v128.load(qo + o), v128.load(ko + o)));
        }
        let s = hsum(acc);
        for (let t = hd4; t < hd; t++) s += load<f32>(qo + ((<usize>t) << 2)) * load<f32>(ko + ((<usize>t) << 2));
        s *= scale;
        store<f32>(scores + ((<usize>j) << 2), s);
        max = Mathf.max(max, s);
      }
      let sum: f32 = 0;
      for (let j = 0; j <= p; j++) {
        const at = scores + ((<usize>j) << 2);
        const e = expScalar(load<f32>(at) - max);
        store<f32>(at, e);
        sum += e;
      }
      const inv: f32 = 1 / sum;
      for (let t = 0; t < hd; t++) store<f32>(oo + ((<usize>t) << 2), 0);
      for (let j = 0; j <= p; j++) {
        const w = f32x4.splat(load<f32>(scores + ((<usize>j) << 2)) * inv);
        const vo = V + <usize>j * rowKV + headOff;
        for (let t = 0; t < hd4; t += 4) {
          const o = (<usize>t) << 2;
          v128.store(oo + o, f32x4.add(v128.load(oo + o), f32x4.mul(w, v128.load(vo + o))));
        }
        const ws = load<f32>(scores + ((<usize>j) << 2)) * inv;
        for (let t = hd4; t < hd; t++) {
          const o = (<usize>t) << 2;
          store<f32>(oo + o, load<f32>(oo + o) + ws * load<f32>(vo + o));
        }
      }
    }
  }
}
