import { kernelForArena } from "../kernels/elementwise-wasm.ts";
import { allocArray, allocLike, allocOutputLike, type FArray } from "../kernels/float-array.ts";
import { matmul } from "../kernels/matmul.ts";
import { allocArenaF32 } from "../kernels/wasm-memory.ts";
import { embedTokens, getRopeTables, qkNormInference } from "../model/llama-forward.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import { linearForward } from "../model/ops/linear.ts";
import { rmsnormForward } from "../model/ops/rmsnorm.ts";
import { applyRope } from "../model/ops/rope.ts";
import { swigluForward } from "../model/ops/swiglu.ts";

/**
 * Incremental inference for one sequence: each call appends `ids` at the next positions, stores
 * their keys and values in the cache, and returns the logits of the last new token. Prefill is a
 * call with the whole prompt; decoding calls with one token.
 */
export interface KvCache {
  keys: FArray[];
  values: FArray[];
  length: number;
  capacity: number;
}

function allocCache(model: LlamaModel, n: number): FArray {
  return (model.dtype === "f32" ? allocArenaF32(n) : null) ?? allocArray(model.dtype, n);
}

export function createKvCache(model: LlamaModel, capacity: number): KvCache {
  const c = model.config;
  const width = c.numKvHeads * c.headDim;
  return {
    // in the arena when one is open (generateTokens opens one), where the wasm attention reads it
    keys: model.layers.map(() => allocCache(model, capacity * width)),
    values: model.layers.map(() => allocCache(model, capacity * width)),
    length: 0,
    capacity,
  };
}

export function forwardIncremental(model: LlamaModel, cache: KvCache, ids: number[]): FArray {
  const c = model.config;
  const n = ids.length;
  const pos0 = cache.length;
  if (pos0 + n > cache.capacity) throw new Error(`KV cache full (${cache.capacity} positions)`);
  const d = c.hiddenSize;
  const { numHeads: H, numKvHeads: KVH, headDim: hd } = c;
  const group = H / KVH;
  const kvw = KVH * hd;
  const rope = getRopeTables(pos0 + n, hd, c.ropeTheta);
  const posOf = (r: number) => pos0 + r;
  const scale = 1 / Math.sqrt(hd);
  let h = embedTokens(model, Int32Array.from(ids));
  const scores = new Float64Array(pos0 + n);
  for (let l = 0; l < model.layers.length; l++) {
    const layer = model.layers[l]!;
    const L = layer.linears;
    const n1 = rmsnormForward(h, layer.inputNorm.data, n, d, c.rmsNormEps).y;
    const { q, k } = qkNormInference(
      model,
      layer,
      linearForward(L.q_proj, n1, n, null).y,
      linearForward(L.k_proj, n1, n, null).y,
      n,
    );
    const v = linearForward(L.v_proj, n1, n, null).y;
    applyRope(q, n, H, hd, rope, posOf);
    applyRope(k, n, KVH, hd, rope, posOf);
    const K = cache.keys[l]!;
    const V = cache.values[l]!;
    K.set(k, pos0 * kvw);
    V.set(v, pos0 * kvw);
    const att = allocLike(q, n * H * hd);
    const wasm = kernelForArena(q, K, V, att);
    if (wasm) {
      const sc = allocOutputLike(q, pos0 + n);
      wasm.decodeAttention(
        q.byteOffset,
        K.byteOffset,
        V.byteOffset,
        att.byteOffset,
        sc.byteOffset,
        n,
        pos0,
        H,
        KVH,
        hd,
        scale,
      );
    } else {
      for (let i = 0; i < n; i++)
        attendPosition(model, q.subarray(i * H * hd), K, V, att.subarray(i * H * hd), pos0 + i, scores);
    }
    h = layerTail(model, layer, att, h, n);
  }
  cache.length += n;
  const last = h.subarray((n - 1) * d, n * d);
  const normed = rmsnormForward(last, model.norm.data, 1, d, c.rmsNormEps).y;
  const logits = allocArray(model.dtype, c.vocabSize);
  matmul(normed, model.lmHead.data, logits, 1, d, c.vocabSize, { transB: true });
  return logits;
}

/**
 * Causal attention of one query position `p` (all heads) over the cached keys and values at
 * positions 0..p, added into `out`: the JavaScript path when no wasm arena holds the tensors.
 */
export function attendPosition(
  model: LlamaModel,
  q: FArray,
  K: FArray,
  V: FArray,
  out: FArray,
  p: number,
  scores: Float64Array,
): void {
  const { numHeads: H, numKvHeads: KVH, headDim: hd } = model.config;
  const group = H / KVH;
  const kvw = KVH * hd;
  const scale = 1 / Math.sqrt(hd);
  for (let hh = 0; hh < H; hh++) {
    const kh = Math.floor(hh / group);
    const qo = hh * hd;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= p; j++) {
      let s = 0;
      const ko = j * kvw + kh * hd;
      for (let t = 0; t < hd; t++) s += (q[qo + t] as number) * (K[ko + t] as number);
      scores[j] = s * scale;
      if (scores[j]! > max) max = scores[j]!;
    }
    let sum = 0;
    for (let j = 0; j <= p; j++) {
      scores[j] = Math.exp(scores[j]! - max);
      sum += scores[j]!;
    }
    for (let j = 0; j <= p; j++) {
      const w = scores[j]! / sum;
      const vo = j * kvw + kh * hd;
      for (let t = 0; t < hd; t++) out[qo + t] = (out[qo + t] as number) + w * (V[vo + t] as number);
    }
  }
}

/** The rest of a decoder layer after attention: output projection, residual, norm, SwiGLU MLP, residual. */
export function layerTail(
  model: LlamaModel,
  layer: LlamaModel["layers"][number],
  att: FArray,
  h: FArray,
  rows: number,
): FArray {
  const c = model.config;
  const L = layer.linears;
  const o = linearForward(L.o_proj, att, rows, null).y;
  for (let i = 0; i < o.length; i++) o[i] = (o[i] as number) + (h[i] as number);
  const n2 = rmsnormForward(o, layer.postNorm.data, rows, c.hiddenSize, c.rmsNormEps).y;
  const g = linearForward(L.gate_proj, n2, rows, null).y;
  const u = linearForward(L.up_proj, n2, rows, null).y;
  const m = linearForward(L.down_proj, swigluForward(g, u).a, rows, null).y;
  for (let i = 0; i < m.length; i++) m[i] = (m[i] as number) + (o[i] as number);
  return m;
}
