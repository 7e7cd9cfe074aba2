import { kernelForArena } from "../kernels/elementwise-wasm.ts";
import { allocLike, allocOutputLike, type FArray } from "../kernels/float-array.ts";
import { matmul, nativeOps } from "../kernels/matmul.ts";
import { chunkFor, getMatmulThreads, OP, runTask, taskArgs } from "../kernels/parallel.ts";
import { Rng } from "../kernels/rng.ts";
import { allocArenaI32, enterArena } from "../kernels/wasm-memory.ts";
import type { LlamaModel } from "./llama-model.ts";
import { type AttentionShape, attentionBackward, attentionForward } from "./ops/attention.ts";
import { type LinearCache, linearBackward, linearForward } from "./ops/linear.ts";
import { rmsnormBackward, rmsnormForward } from "./ops/rmsnorm.ts";
import { applyRopeRows, buildRopeTables, type RopeTables } from "./ops/rope.ts";
import { swigluBackwardInPlace, swigluForward } from "./ops/swiglu.ts";
import type { Param } from "./param.ts";

/**
 * The training forward and backward pass of LlamaForCausalLM over a right-padded batch
 * [batch, seq] of token ids. The forward keeps what each op's backward needs (a hand-rolled
 * tape); the backward walks the layers in reverse and accumulates into each trainable Param's
 * grad. Same math as transformers: pre-norm residual blocks, RMSNorm, RoPE (rotate_half),
 * GQA with causal softmax, SwiGLU MLP, final norm, LM head.
 */
interface LayerTape {
  x: FArray;
  xn1: FArray;
  rinv1: FArray;
  qc: LinearCache;
  kc: LinearCache;
  vc: LinearCache;
  q: FArray;
  k: FArray;
  v: FArray;
  /** Qwen3: q and k before their per-head RMSNorm, and its 1/rms per head */
  qkNorm: { qPre: FArray; qRinv: FArray; kPre: FArray; kRinv: FArray } | null;
  probs: FArray;
  oc: LinearCache;
  h1: FArray;
  xn2: FArray;
  rinv2: FArray;
  gc: LinearCache;
  uc: LinearCache;
  g: FArray;
  u: FArray;
  sig: FArray;
  dc: LinearCache;
}

/**
 * A checkpointed layer (activation checkpointing): only its input and the dropout RNG state it
 * started from; the backward recomputes the layer's tape from them, one layer at a time.
 */
interface CheckpointedLayer {
  x: FArray;
  rngState: number[] | null;
  checkpointed: true;
}

export interface ForwardTape {
  ids: Int32Array;
  batch: number;
  seq: number;
  segStart: Int32Array | null;
  layers: (LayerTape | CheckpointedLayer)[];
  hLast: FArray;
  hNorm: FArray;
  rinvFinal: FArray;
  logits: FArray;
}

const ropeCache = new Map<string, RopeTables>();

export function getRopeTables(positions: number, headDim: number, theta: number): RopeTables {
  const key = `${positions}:${headDim}:${theta}`;
  let t = ropeCache.get(key);
  if (!t) {
    t = buildRopeTables(positions, headDim, theta);
    ropeCache.set(key, t);
  }
  return t;
}

export function embedTokens(model: LlamaModel, ids: Int32Array): FArray {
  const d = model.config.hiddenSize;
  const V = model.config.vocabSize;
  const h = allocOutputLike(model.embed.data, ids.length * d);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= V) throw new Error(`token id ${id} is outside the vocabulary (${V})`);
    h.set(model.embed.data.subarray(id * d, (id + 1) * d), i * d);
  }
  return h;
}

/**
 * Qwen3's q_norm / k_norm for inference paths: RMSNorm over each head of q [rows, H·hd] and k
 * [rows, KVH·hd]; returns them unchanged for architectures without it.
 */
export function qkNormInference(
  model: LlamaModel,
  layer: LlamaModel["layers"][number],
  q: FArray,
  k: FArray,
  rows: number,
): { q: FArray; k: FArray } {
  if (!layer.qNorm || !layer.kNorm) return { q, k };
  const c = model.config;
  return {
    q: rmsnormForward(q, layer.qNorm.data, rows * c.numHeads, c.headDim, c.rmsNormEps).y,
    k: rmsnormForward(k, layer.kNorm.data, rows * c.numKvHeads, c.headDim, c.rmsNormEps).y,
  };
}

function addInPlace(a: FArray, b: FArray): void {
  const native = nativeOps();
  if (native && a instanceof Float32Array && b instanceof Float32Array && b.length >= a.length) {
    native.addInPlace(a, b, getMatmulThreads());
    return;
  }
  const k = kernelForArena(a, b);
  if (k) {
    const { i32 } = taskArgs();
    i32[0] = a.byteOffset;
    i32[1] = b.byteOffset;
    runTask(k, OP.add, a.length, chunkFor(a.length, 4), a.length * 2);
    return;
  }
  for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + (b[i] as number);
}

function attentionShape(
  model: LlamaModel,
  batch: number,
  seq: number,
  segStart: Int32Array | null,
): AttentionShape {
  const c = model.config;
  return { batch, seq, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, segStart };
}

/**
 * Activation checkpointing: "auto" (default) checkpoints every layer when a float32 tape would
 * hold more than CHECKPOINT_ABOVE_BYTES (a 135M student at 4×512 tokens: ~3.5 GB of tape, of
 * which 1.1 GB attention probabilities), so the step fits in 2 GB at the cost of one more
 * forward of the layers; "on"/"off" force it (tests compare them bit for bit).
 */
export type CheckpointMode = "auto" | "on" | "off";
let checkpointMode: CheckpointMode = "auto";
const CHECKPOINT_ABOVE_BYTES = 768 << 20;

export function setActivationCheckpointing(mode: CheckpointMode): void {
  checkpointMode = mode;
}

/** bytes a full float32 tape keeps for the layers of a [batch, seq] step (estimate) */
export function tapeBytes(model: LlamaModel, batch: number, seq: number): number {
  const c = model.config;
  const rows = batch * seq;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const perRow = 6 * c.hiddenSize + 2 * qd + 3 * kvd + 5 * c.intermediateSize;
  return 4 * c.numLayers * (rows * perRow + batch * c.numHeads * seq * seq);
}

function useCheckpointing(model: LlamaModel, like: FArray, batch: number, seq: number): boolean {
  if (checkpointMode !== "auto") return checkpointMode === "on";
  return like instanceof Float32Array && tapeBytes(model, batch, seq) > CHECKPOINT_ABOVE_BYTES;
}

/** one decoder layer's forward from its input x: its output and its tape */
function layerForward(
  model: LlamaModel,
  layer: LlamaModel["layers"][number],
  x: FArray,
  rows: number,
  rng: Rng | null,
  shape: AttentionShape,
  rope: RopeTables,
): { h2: FArray; t: LayerTape } {
  const c = model.config;
  const d = c.hiddenSize;
  const { seq } = shape;
  const seg = shape.segStart ?? null;
  const L = layer.linears;
  const n1 = rmsnormForward(x, layer.inputNorm.data, rows, d, c.rmsNormEps);
  const qf = linearForward(L.q_proj, n1.y, rows, rng);
  const kf = linearForward(L.k_proj, n1.y, rows, rng);
  const vf = linearForward(L.v_proj, n1.y, rows, rng);
  let q = qf.y;
  let k = kf.y;
  let qkNorm: LayerTape["qkNorm"] = null;
  if (layer.qNorm && layer.kNorm) {
    // Qwen3: RMSNorm over each head of q and k, before RoPE
    const qn = rmsnormForward(q, layer.qNorm.data, rows * c.numHeads, c.headDim, c.rmsNormEps);
    const kn = rmsnormForward(k, layer.kNorm.data, rows * c.numKvHeads, c.headDim, c.rmsNormEps);
    qkNorm = { qPre: q, qRinv: qn.rinv, kPre: k, kRinv: kn.rinv };
    q = qn.y;
    k = kn.y;
  }
  applyRopeRows(q, rows, c.numHeads, c.headDim, rope, seq, seg);
  applyRopeRows(k, rows, c.numKvHeads, c.headDim, rope, seq, seg);
  const att = attentionForward(q, k, vf.y, shape);
  const of = linearForward(L.o_proj, att.out, rows, rng);
  const h1 = of.y;
  addInPlace(h1, x);
  const n2 = rmsnormForward(h1, layer.postNorm.data, rows, d, c.rmsNormEps);
  const gf = linearForward(L.gate_proj, n2.y, rows, rng);
  const uf = linearForward(L.up_proj, n2.y, rows, rng);
  const { a: act, sig } = swigluForward(gf.y, uf.y);
  const df = linearForward(L.down_proj, act, rows, rng);
  const h2 = df.y;
  addInPlace(h2, h1);
  const t: LayerTape = {
    x,
    xn1: n1.y,
    rinv1: n1.rinv,
    qc: qf.cache,
    kc: kf.cache,
    vc: vf.cache,
    q,
    k,
    v: vf.y,
    qkNorm,
    probs: att.probs,
    oc: of.cache,
    h1,
    xn2: n2.y,
    rinv2: n2.rinv,
    gc: gf.cache,
    uc: uf.cache,
    g: gf.y,
    u: uf.y,
    sig,
    dc: df.cache,
  };
  return { h2, t };
}

/**
 * Forward pass; `rng` enables LoRA dropout (training), null disables it (eval). `segStart`
 * (packed batches, [batch·seq]) gives each row the position where its example starts in its
 * sequence: attention stays within the example and RoPE positions restart at it.
 */
export function forwardTrain(
  model: LlamaModel,
  ids: Int32Array,
  batch: number,
  seq: number,
  rng: Rng | null,
  segStart: Int32Array | null = null,
): ForwardTape {
  const c = model.config;
  const rows = batch * seq;
  const d = c.hiddenSize;
  const rope = getRopeTables(seq, c.headDim, c.ropeTheta);
  let seg = segStart;
  if (seg) {
    if (seg.length !== rows) throw new Error(`segStart has ${seg.length} entries for ${rows} rows`);
    // in the arena, where the wasm kernels read it (stays a plain array without an arena)
    const inArena = allocArenaI32(rows);
    if (inArena) {
      inArena.set(seg);
      seg = inArena;
    }
  }
  const shape = attentionShape(model, batch, seq, seg);
  let h = embedTokens(model, ids);
  const layers: ForwardTape["layers"] = [];
  const checkpoint = useCheckpointing(model, h, batch, seq);
  for (const layer of model.layers) {
    const x = h;
    if (checkpoint) {
      // only x is kept: the layer's temporaries are freed as soon as its output is copied out
      const rngState = rng ? rng.state() : null;
      const out = allocOutputLike(x, rows * d);
      const leave = enterArena();
      try {
        out.set(layerForward(model, layer, x, rows, rng, shape, rope).h2);
      } finally {
        leave();
      }
      layers.push({ x, rngState, checkpointed: true });
      h = out;
      continue;
    }
    const { h2, t } = layerForward(model, layer, x, rows, rng, shape, rope);
    layers.push(t);
    h = h2;
  }
  const fin = rmsnormForward(h, model.norm.data, rows, d, c.rmsNormEps);
  const logits = allocOutputLike(h, rows * c.vocabSize);
  matmul(fin.y, model.lmHead.data, logits, rows, d, c.vocabSize, { transB: true });
  return { ids, batch, seq, segStart: seg, layers, hLast: h, hNorm: fin.y, rinvFinal: fin.rinv, logits };
}

/** dW[rows ≥ trainFromRow] += dYᵀ X for a [V, d] table used as a Linear (the LM head). */
function accumulateHeadGrad(p: Param, dlogits: FArray, x: FArray, rows: number, V: number, d: number): void {
  if (!p.grad) return;
  const r0 = p.trainFromRow;
  if (r0 === 0) {
    matmul(dlogits, x, p.grad, V, rows, d, { transA: true, accumulate: true });
    return;
  }
  const n = V - r0;
  if (n <= 0) return;
  const sub = allocLike(dlogits, rows * n);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < n; j++) sub[i * n + j] = dlogits[i * V + r0 + j] as number;
  matmul(sub, x, p.grad.subarray(r0 * d), n, rows, d, { transA: true, accumulate: true });
}

/**
 * The hidden state `index` of a forward tape as transformers' output_hidden_states counts them:
 * 0 = the embeddings, i = the output of decoder layer i (the last one before the final norm).
 */
export function tapeHiddenState(tape: ForwardTape, index: number): FArray {
  const n = tape.layers.length;
  if (!(index >= 0 && index <= n)) throw new RangeError(`hidden state ${index} is outside 0..${n}`);
  return index === n ? tape.hLast : (tape.layers[index] as LayerTape).x;
}

/** one decoder layer's backward: dh (its output's gradient) becomes its input's, in place */
function layerBackward(
  model: LlamaModel,
  l: number,
  t: LayerTape,
  dh: FArray,
  rows: number,
  shape: AttentionShape,
  rope: RopeTables,
): void {
  const c = model.config;
  const d = c.hiddenSize;
  const { seq } = shape;
  const seg = shape.segStart ?? null;
  const layer = model.layers[l]!;
  const L = layer.linears;
  // MLP block: h2 = h1 + down(silu(gate(n2)) · up(n2))
  const dact = linearBackward(L.down_proj, t.dc, dh, rows, true)!;
  // g and u are not needed after this, so their buffers take the gradients (the tape is single-use)
  const { dg, du } = swigluBackwardInPlace(t.g, t.u, t.sig, dact);
  const dxn2 = linearBackward(L.gate_proj, t.gc, dg, rows, true)!;
  addInPlace(dxn2, linearBackward(L.up_proj, t.uc, du, rows, true)!);
  const dh1 = dh; // residual path
  rmsnormBackward(t.h1, layer.postNorm.data, t.rinv2, dxn2, dh1, layer.postNorm.grad, rows, d);
  // attention block: h1 = x + o(attn(rope(q(n1)), rope(k(n1)), v(n1)))
  const datt = linearBackward(L.o_proj, t.oc, dh1, rows, true)!;
  let { dq, dk, dv } = attentionBackward(t.q, t.k, t.v, t.probs, datt, shape);
  applyRopeRows(dq, rows, c.numHeads, c.headDim, rope, seq, seg, true);
  applyRopeRows(dk, rows, c.numKvHeads, c.headDim, rope, seq, seg, true);
  if (t.qkNorm && layer.qNorm && layer.kNorm) {
    const n = t.qkNorm;
    const dqPre = allocLike(dq, dq.length);
    const dkPre = allocLike(dk, dk.length);
    const H = c.numHeads;
    const KVH = c.numKvHeads;
    rmsnormBackward(n.qPre, layer.qNorm.data, n.qRinv, dq, dqPre, layer.qNorm.grad, rows * H, c.headDim);
    rmsnormBackward(n.kPre, layer.kNorm.data, n.kRinv, dk, dkPre, layer.kNorm.grad, rows * KVH, c.headDim);
    dq = dqPre;
    dk = dkPre;
  }
  // below the first layer only a trainable embedding wants the gradient: without one, the
  // first layer's q/k/v/norm input gradients are skipped (their LoRA and weight grads are not)
  const needDx = l > 0 || model.embed.grad !== null || layer.inputNorm.grad !== null;
  const dxn1 = linearBackward(L.q_proj, t.qc, dq, rows, needDx);
  const dxk = linearBackward(L.k_proj, t.kc, dk, rows, needDx);
  const dxv = linearBackward(L.v_proj, t.vc, dv, rows, needDx);
  if (dxn1 && dxk && dxv) {
    addInPlace(dxn1, dxk);
    addInPlace(dxn1, dxv);
    rmsnormBackward(t.x, layer.inputNorm.data, t.rinv1, dxn1, dh1, layer.inputNorm.grad, rows, d);
  }
}

/**
 * Backward from dLogits [rows, V]; accumulates into every trainable Param's grad. `hiddenGrads`
 * (feature distillation) adds a loss's gradient on hidden state i (as tapeHiddenState counts them).
 */
export function backwardTrain(
  model: LlamaModel,
  tape: ForwardTape,
  dlogits: FArray,
  hiddenGrads?: ReadonlyMap<number, FArray>,
): void {
  const c = model.config;
  const { batch, seq } = tape;
  const rows = batch * seq;
  const d = c.hiddenSize;
  const V = c.vocabSize;
  const rope = getRopeTables(seq, c.headDim, c.ropeTheta);
  const seg = tape.segStart;
  const shape = attentionShape(model, batch, seq, seg);

  accumulateHeadGrad(model.lmHead, dlogits, tape.hNorm, rows, V, d);
  const dhn = allocOutputLike(dlogits, rows * d);
  matmul(dlogits, model.lmHead.data, dhn, rows, V, d);
  const dh = allocLike(dlogits, rows * d);
  rmsnormBackward(tape.hLast, model.norm.data, tape.rinvFinal, dhn, dh, model.norm.grad, rows, d);

  for (let l = model.layers.length - 1; l >= 0; l--) {
    // dh is the gradient on this layer's output, hidden state l + 1
    const extra = hiddenGrads?.get(l + 1);
    if (extra) addInPlace(dh, extra);
    const layer = model.layers[l]!;
    const saved = tape.layers[l]!;
    if (!("checkpointed" in saved)) {
      layerBackward(model, l, saved, dh, rows, shape, rope);
      continue;
    }
    // recompute the layer's tape (same ops, same inputs, same dropout draws), then free it
    const leave = enterArena();
    try {
      const rng = saved.rngState ? new Rng(saved.rngState) : null;
      layerBackward(
        model,
        l,
        layerForward(model, layer, saved.x, rows, rng, shape, rope).t,
        dh,
        rows,
        shape,
        rope,
      );
    } finally {
      leave();
    }
  }
  const eg = model.embed.grad;
  const extra0 = hiddenGrads?.get(0);
  if (eg && extra0) addInPlace(dh, extra0);
  if (eg) {
    const r0 = model.embed.trainFromRow;
    for (let i = 0; i < rows; i++) {
      const id = tape.ids[i] as number;
      if (id < r0) continue;
      for (let j = 0; j < d; j++) eg[id * d + j] = (eg[id * d + j] as number) + (dh[i * d + j] as number);
    }
  }
}
