import type { FArray } from "../kernels/float-array.ts";
import type { Linear, LlamaModel } from "../model/llama-model.ts";
import { buildRopeTables } from "../model/ops/rope.ts";
import { type AttrValue, ONNX_FLOAT, ONNX_INT64, type OnnxNode, type OnnxTensor } from "./onnx-proto.ts";

/** Collects the nodes and initializers of an ONNX graph (see buildLlamaGraph). */
export class GraphBuilder {
  nodes: OnnxNode[] = [];
  initializers: OnnxTensor[] = [];
  private n = 0;

  fresh(hint: string): string {
    return `${hint}_${this.n++}`;
  }
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, hint = op.toLowerCase()): string {
    const out = this.fresh(hint);
    this.nodes.push({ op, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  }
  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    const f = Float32Array.from(data);
    this.initializers.push({ name, dims, dataType: ONNX_FLOAT, raw: new Uint8Array(f.buffer) });
    return name;
  }
  ints(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh("const");
    const b = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: ONNX_INT64, raw: new Uint8Array(b.buffer) });
    return name;
  }
  scalar(value: number): string {
    return this.floats(this.fresh("scalar"), [], [value]);
  }
}

function transposed(w: FArray, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j] as number;
  return out;
}

function linear(g: GraphBuilder, x: string, lin: Linear): string {
  // stored as Wᵀ [in, out] so the graph is a plain MatMul
  const w = g.floats(
    lin.weight.name,
    [lin.inFeatures, lin.outFeatures],
    transposed(lin.weight.data, lin.outFeatures, lin.inFeatures),
  );
  let y = g.op("MatMul", [x, w]);
  if (lin.bias) y = g.op("Add", [y, g.floats(lin.bias.name, [lin.outFeatures], lin.bias.data)]);
  return y;
}

function rmsnorm(g: GraphBuilder, x: string, weightName: string, w: FArray, eps: string): string {
  const ms = g.op("ReduceMean", [g.op("Mul", [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
  const r = g.op("Sqrt", [g.op("Add", [ms, eps])]);
  return g.op("Mul", [g.op("Div", [x, r]), g.floats(weightName, [w.length], w)]);
}

function rope(g: GraphBuilder, x: string, cos: string, sin: string, half: number, hd: number): string {
  const x1 = g.op("Slice", [x, g.ints([0]), g.ints([half]), g.ints([3])]);
  const x2 = g.op("Slice", [x, g.ints([half]), g.ints([hd]), g.ints([3])]);
  const rot = g.op("Concat", [g.op("Neg", [x2]), x1], { axis: { i: 3 } });
  return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])]);
}

/** Graph input and output names, as optimum and transformers.js name them. */
export const pastKeyName = (layer: number) => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number) => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number) => `present.${layer}.key`;
export const presentValueName = (layer: number) => `present.${layer}.value`;

/**
 * The decoder graph in the layout optimum exports and transformers.js runs:
 *   input_ids [batch, sequence] int64, attention_mask [batch, past + sequence] int64 (1 = real
 *   token, 0 = padding), position_ids [batch, sequence] int64, past_key_values.{i}.key/value
 *   [batch, kv_heads, past, head_dim] float32 (past = 0 for the first call)
 *   → logits [batch, sequence, vocab], present.{i}.key/value [batch, kv_heads, past + sequence, head_dim].
 * RoPE tables are initializers gathered by position_ids; the mask combines causality (a query at
 * past + t sees keys 0 … past + t) with attention_mask, so left-padded batches and cached decoding
 * both work. Masked scores get float32's lowest value (as transformers), which keeps a row that is
 * all padding finite.
 */
export function buildLlamaGraph(model: LlamaModel): GraphBuilder {
  const c = model.config;
  const g = new GraphBuilder();
  const { hiddenSize: d, numHeads: H, numKvHeads: KVH, headDim: hd, vocabSize: V } = c;
  const half = hd / 2;
  const P = c.maxPositions;
  const eps = g.scalar(c.rmsNormEps);

  const tables = buildRopeTables(P, hd, c.ropeTheta);
  const cosFull = new Float32Array(P * hd);
  const sinFull = new Float32Array(P * hd);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      cosFull[p * hd + i] = cosFull[p * hd + i + half] = tables.cos[p * half + i] as number;
      sinFull[p * hd + i] = sinFull[p * hd + i + half] = tables.sin[p * half + i] as number;
    }
  }
  // [batch, 1, sequence, hd]: broadcast over heads
  const gatherRope = (table: string) =>
    g.op("Unsqueeze", [g.op("Gather", [table, "position_ids"], { axis: { i: 0 } }), g.ints([1])]);
  const cos = gatherRope(g.floats("rope_cos", [P, hd], cosFull));
  const sin = gatherRope(g.floats("rope_sin", [P, hd], sinFull));

  // mask bias [batch, 1, sequence, total]: 0 where allowed, float32 lowest elsewhere
  const scalarOf = (shapeOf: string, index: number) =>
    g.op("Squeeze", [
      g.op("Slice", [g.op("Shape", [shapeOf]), g.ints([index]), g.ints([index + 1]), g.ints([0])]),
      g.ints([0]),
    ]);
  const total = scalarOf("attention_mask", 1);
  const seqLen = scalarOf("input_ids", 1);
  const past = g.op("Sub", [total, seqLen]);
  const one = g.ints([1], []);
  const keyPos = g.op("Range", [g.ints([0], []), total, one]);
  const queryPos = g.op("Range", [past, total, one]);
  const causal = g.op("LessOrEqual", [
    g.op("Unsqueeze", [keyPos, g.ints([0])]),
    g.op("Unsqueeze", [queryPos, g.ints([1])]),
  ]);
  const notPad = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], { to: { i: 9 } }), g.ints([1, 2])]);
  const allowed = g.op("And", [causal, notPad]);
  const maskBias = g.op("Where", [allowed, g.scalar(0), g.scalar(-3.4028234663852886e38)]);
  const scale = g.scalar(1 / Math.sqrt(hd));

  let h = g.op("Gather", [g.floats(model.embed.name, [V, d], model.embed.data), "input_ids"], {
    axis: { i: 0 },
  });
  // [batch, seq, n·hd] → [batch, seq, n, hd] (norms over hd apply here) → [batch, n, seq, hd]
  const split = (x: string, n: number) => g.op("Reshape", [x, g.ints([0, 0, n, hd])]);
  const toHeads = (x: string) => g.op("Transpose", [x], { perm: { ints: [0, 2, 1, 3] } });
  const group = H / KVH;
  model.layers.forEach((layer, l) => {
    const L = layer.linears;
    const n1 = rmsnorm(g, h, layer.inputNorm.name, layer.inputNorm.data, eps);
    let q = split(linear(g, n1, L.q_proj), H);
    let k = split(linear(g, n1, L.k_proj), KVH);
    if (layer.qNorm && layer.kNorm) {
      q = rmsnorm(g, q, layer.qNorm.name, layer.qNorm.data, eps);
      k = rmsnorm(g, k, layer.kNorm.name, layer.kNorm.data, eps);
    }
    q = rope(g, toHeads(q), cos, sin, half, hd);
    k = rope(g, toHeads(k), cos, sin, half, hd);
    const v = toHeads(split(linear(g, n1, L.v_proj), KVH));
    g.nodes.push({
      op: "Concat",
      inputs: [pastKeyName(l), k],
      outputs: [presentKeyName(l)],
      attrs: { axis: { i: 2 } },
    });
    g.nodes.push({
      op: "Concat",
      inputs: [pastValueName(l), v],
      outputs: [presentValueName(l)],
      attrs: { axis: { i: 2 } },
    });
    // GQA without copying keys: the `group` query heads of one kv head become group·seq rows
    const qGrouped = group === 1 ? q : g.op("Reshape", [q, g.ints([0, KVH, -1, hd])]);
    const kT = g.op("Transpose", [presentKeyName(l)], { perm: { ints: [0, 1, 3, 2] } });
    let scores = g.op("MatMul", [qGrouped, kT]);
    if (group !== 1) scores = g.op("Reshape", [scores, g.ints([0, H, -1, 0])]);
    scores = g.op("Add", [g.op("Mul", [scores, scale]), maskBias]);
    let probs = g.op("Softmax", [scores], { axis: { i: -1 } });
    if (group !== 1) probs = g.op("Reshape", [probs, g.ints([0, KVH, -1, 0])]);
    let att = g.op("MatMul", [probs, presentValueName(l)]);
    if (group !== 1) att = g.op("Reshape", [att, g.ints([0, H, -1, hd])]);
    const merged = g.op("Reshape", [
      g.op("Transpose", [att], { perm: { ints: [0, 2, 1, 3] } }),
      g.ints([0, 0, H * hd]),
    ]);
    h = g.op("Add", [h, linear(g, merged, L.o_proj)]);
    const n2 = rmsnorm(g, h, layer.postNorm.name, layer.postNorm.data, eps);
    const gate = linear(g, n2, L.gate_proj);
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), linear(g, n2, L.up_proj)]);
    h = g.op("Add", [h, linear(g, act, L.down_proj)]);
  });
  const hn = rmsnorm(g, h, model.norm.name, model.norm.data, eps);
  // the LM head as Gemm(x, W, transB): a tied head reuses the embedding initializer as stored
  const headName =
    model.lmHead === model.embed ? model.embed.name : g.floats(model.lmHead.name, [V, d], model.lmHead.data);
  const flat = g.op("Reshape", [hn, g.ints([-1, d])]);
  const logits2d = g.op("Gemm", [flat, headName], { transB: { i: 1 } });
  const outShape = g.op("Concat", [g.op("Shape", ["input_ids"]), g.ints([V])], { axis: { i: 0 } });
  g.nodes.push({ op: "Reshape", inputs: [logits2d, outShape], outputs: ["logits"] });
  return g;
}
