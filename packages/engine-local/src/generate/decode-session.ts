import { kernelForArena } from "../kernels/elementwise-wasm.ts";
import { allocArray, allocLike, allocOutputLike, type FArray } from "../kernels/float-array.ts";
import { matmul } from "../kernels/matmul.ts";
import { packWeights } from "../kernels/matmul-wasm.ts";
import { allocPinned, runInArena } from "../kernels/wasm-memory.ts";
import { embedTokens, getRopeTables, qkNormInference } from "../model/llama-forward.ts";
import { type LlamaModel, packableWeights } from "../model/llama-model.ts";
import { linearForward } from "../model/ops/linear.ts";
import { rmsnormForward } from "../model/ops/rmsnorm.ts";
import { applyRope } from "../model/ops/rope.ts";
import { swigluForward } from "../model/ops/swiglu.ts";
import {
  attendPosition,
  createKvCache,
  forwardIncremental,
  type KvCache,
  layerTail,
} from "./kv-cache-forward.ts";

/**
 * A model held for serving: its weights packed into wasm memory once, and a fixed pool of KV
 * cache slots pinned beside them, so a continuous batching loop can prefill a new sequence into
 * a free slot and then decode one token for every active slot in one batched step (the linear
 * layers run as [B, d] products, attention per slot). Meant for a process that owns the model
 * for its whole life (packing and pinning are never undone except by close(), LIFO).
 */
export interface DecodeSession {
  readonly slots: number;
  readonly capacity: number;
  readonly vocabSize: number;
  /** tokens in the slot's cache */
  length(slot: number): number;
  /** empties a slot (its memory is reused by the next prefill) */
  reset(slot: number): void;
  /** appends `ids` to the slot's cache; returns the logits of the last one (a plain copy) */
  prefill(slot: number, ids: number[]): Float32Array;
  /** one token for each listed slot, batched; returns each slot's next-token logits */
  decode(slots: number[], tokens: number[]): Float32Array[];
  close(): void;
}

export function createDecodeSession(
  model: LlamaModel,
  options: { slots: number; capacity?: number },
): DecodeSession {
  const capacity = Math.min(options.capacity ?? model.config.maxPositions, model.config.maxPositions);
  const V = model.config.vocabSize;
  const unpack = packWeights(packableWeights(model, false));
  let caches: KvCache[] = [];
  const unpin = allocPinned(() => {
    caches = Array.from({ length: options.slots }, () => createKvCache(model, capacity));
  });
  const cacheOf = (slot: number): KvCache => {
    const c = caches[slot];
    if (!c) throw new Error(`no KV slot ${slot} (session has ${caches.length})`);
    return c;
  };
  return {
    slots: options.slots,
    capacity,
    vocabSize: V,
    length: (slot) => cacheOf(slot).length,
    reset(slot) {
      cacheOf(slot).length = 0;
    },
    prefill(slot, ids) {
      const cache = cacheOf(slot);
      return runInArena(() => Float32Array.from(forwardIncremental(model, cache, ids)));
    },
    decode(slots, tokens) {
      if (slots.length !== tokens.length) throw new Error("decode: one token per slot");
      if (slots.length === 0) return [];
      const batch = slots.map(cacheOf);
      return runInArena(() => {
        const logits = forwardDecodeBatch(model, batch, tokens);
        return batch.map((_, r) => Float32Array.from(logits.subarray(r * V, (r + 1) * V)));
      });
    },
    close() {
      unpin();
      unpack();
      caches = [];
    },
  };
}

/**
 * One decoding step for B sequences, row r appending tokens[r] to caches[r]: the same math as
 * forwardIncremental with n = 1 per sequence, but every linear layer is one [B, d] product.
 * Returns [B, vocab] logits (arena memory: copy before the span ends).
 */
export function forwardDecodeBatch(model: LlamaModel, caches: KvCache[], tokens: number[]): FArray {
  const c = model.config;
  const B = tokens.length;
  const d = c.hiddenSize;
  const { numHeads: H, numKvHeads: KVH, headDim: hd } = c;
  const group = H / KVH;
  const kvw = KVH * hd;
  const pos = caches.map((k) => k.length);
  for (let r = 0; r < B; r++)
    if (pos[r]! + 1 > caches[r]!.capacity)
      throw new Error(`KV cache full (${caches[r]!.capacity} positions)`);
  const rope = getRopeTables(Math.max(...pos) + 1, hd, c.ropeTheta);
  const posOf = (r: number) => pos[r] as number;
  const scale = 1 / Math.sqrt(hd);
  let h = embedTokens(model, Int32Array.from(tokens));
  for (let l = 0; l < model.layers.length; l++) {
    const layer = model.layers[l]!;
    const L = layer.linears;
    const n1 = rmsnormForward(h, layer.inputNorm.data, B, d, c.rmsNormEps).y;
    const { q, k } = qkNormInference(
      model,
      layer,
      linearForward(L.q_proj, n1, B, null).y,
      linearForward(L.k_proj, n1, B, null).y,
      B,
    );
    const v = linearForward(L.v_proj, n1, B, null).y;
    applyRope(q, B, H, hd, rope, posOf);
    applyRope(k, B, KVH, hd, rope, posOf);
    const att = allocLike(q, B * H * hd);
    for (let r = 0; r < B; r++) {
      const K = caches[r]!.keys[l]!;
      const Vc = caches[r]!.values[l]!;
      const p = pos[r]!;
      K.set(k.subarray(r * kvw, (r + 1) * kvw), p * kvw);
      Vc.set(v.subarray(r * kvw, (r + 1) * kvw), p * kvw);
      const qr = q.subarray(r * H * hd, (r + 1) * H * hd);
      const ar = att.subarray(r * H * hd, (r + 1) * H * hd);
      const wasm = kernelForArena(qr, K, Vc, ar);
      if (wasm) {
        const sc = allocOutputLike(q, p + 1);
        wasm.decodeAttention(
          qr.byteOffset,
          K.byteOffset,
          Vc.byteOffset,
          ar.byteOffset,
          sc.byteOffset,
          1,
          p,
          H,
          KVH,
          hd,
          scale,
        );
        continue;
      }
      attendPosition(model, qr, K, Vc, ar, p, new Float64Array(p + 1));
    }
    h = layerTail(model, layer, att, h, B);
  }
  for (const cache of caches) cache.length += 1;
  const normed = rmsnormForward(h, model.norm.data, B, d, c.rmsNormEps).y;
  const logits = allocArray(model.dtype, B * c.vocabSize);
  matmul(normed, model.lmHead.data, logits, B, d, c.vocabSize, { transB: true });
  return logits;
}
