import type { FArray } from "../kernels/float-array.ts";
import type { Linear, LlamaModel } from "../model/llama-model.ts";
import { buildRopeTables } from "../model/ops/rope.ts";
import { type AttrValue, ONNX_FLOAT, ONNX_INT64, type OnnxNode, type OnnxTensor } from "./onnx-proto.ts";

/**
 * Builds the ONNX graph of a (merged) Llama model from standard opset-17 ops: input_ids
 * [batch, seq] int64 → logits [batch, seq, vocab] float32, both dimensions dynamic. RoPE
 * tables are initializers sliced to the sequence length at run time; the causal mask is computed.
 */
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

export function buildLlamaGraph(model: LlamaModel): GraphBuilder {
  const c = model.config;
  const g = new GraphBuilder();
  const { hiddenSize: d, numHeads: H, numKvHeads: KVH, headDim: hd, vocabSize: V } = c;
  const half = hd / 2;
  const P = c.maxPositions;
  const eps = g.scalar(c.rmsNormEps);

  // sequence length T as a 1-element tensor, to slice the tables
  const shape = g.op("Shape", ["input_ids"]);
  const T1 = g.op("Slice", [shape, g.ints([1]), g.ints([2]), g.ints([0])]);
  const tables = buildRopeTables(P, hd, c.ropeTheta);
  const cosFull = new Float32Array(P * hd);
  const sinFull = new Float32Array(P * hd);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      cosFull[p * hd + i] = cosFull[p * hd + i + half] = tables.cos[p * half + i] as number;
      sinFull[p * hd + i] = sinFull[p * hd + i + half] = tables.sin[p * half + i] as number;
    }
  }
  const zero = g.ints([0]);
  const axis0 = g.ints([0]);
  const cos = g.op("Slice", [g.floats("rope_cos", [P, hd], cosFull), zero, T1, axis0]);
  const sin = g.op("Slice", [g.floats("rope_sin", [P, hd], sinFull), zero, T1, axis0]);
  // causal mask built from the sequence length at run time (a [P, P] table would be 4 GB at 32k
  // positions): mask[i, j] = −∞ where j > i, else 0
  const T = g.op("Squeeze", [T1, g.ints([0])]);
  const range = g.op("Range", [g.ints([0], []), T, g.ints([1], [])]);
  const future = g.op("Greater", [
    g.op("Unsqueeze", [range, g.ints([0])]),
    g.op("Unsqueeze", [range, g.ints([1])]),
  ]);
  const mask = g.op("Where", [future, g.scalar(-3.4028234663852886e38), g.scalar(0)]);
  const scale = g.scalar(1 / Math.sqrt(hd));

  let h = g.op("Gather", [g.floats(model.embed.name, [V, d], model.embed.data), "input_ids"], {
    axis: { i: 0 },
  });
  const heads = (x: string, n: number) =>
    g.op("Transpose", [g.op("Reshape", [x, g.ints([0, 0, n, hd])])], { perm: { ints: [0, 2, 1, 3] } });
  const repeatKv = (x: string) => {
    if (KVH === H) return x;
    const expanded = g.op("Expand", [g.op("Unsqueeze", [x, g.ints([2])]), g.ints([1, 1, H / KVH, 1, 1])]);
    return g.op("Reshape", [expanded, g.ints([0, H, -1, hd])]);
  };
  for (const layer of model.layers) {
    const L = layer.linears;
    const n1 = rmsnorm(g, h, layer.inputNorm.name, layer.inputNorm.data, eps);
    const q = rope(g, heads(linear(g, n1, L.q_proj), H), cos, sin, half, hd);
    const k = repeatKv(rope(g, heads(linear(g, n1, L.k_proj), KVH), cos, sin, half, hd));
    const v = repeatKv(heads(linear(g, n1, L.v_proj), KVH));
    const kT = g.op("Transpose", [k], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, kT]), scale]), mask]);
    const probs = g.op("Softmax", [scores], { axis: { i: -1 } });
    const att = g.op("Transpose", [g.op("MatMul", [probs, v])], { perm: { ints: [0, 2, 1, 3] } });
    const merged = g.op("Reshape", [att, g.ints([0, 0, H * hd])]);
    h = g.op("Add", [h, linear(g, merged, L.o_proj)]);
    const n2 = rmsnorm(g, h, layer.postNorm.name, layer.postNorm.data, eps);
    const gate = linear(g, n2, L.gate_proj);
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), linear(g, n2, L.up_proj)]);
    h = g.op("Add", [h, linear(g, act, L.down_proj)]);
  }
  const hn = rmsnorm(g, h, model.norm.name, model.norm.data, eps);
  const head = g.floats("lm_head.weight.T", [d, V], transposed(model.lmHead.data, V, d));
  g.nodes.push({ op: "MatMul", inputs: [hn, head], outputs: ["logits"] });
  return g;
}
