import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setMatmulKernel } from "../kernels/matmul.ts";
import { packedWeightCount, packWeights } from "../kernels/matmul-wasm.ts";
import { setMatmulThreads } from "../kernels/parallel.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "./llama-forward.ts";
import {
  allocateModel,
  initializeModel,
  type LlamaModel,
  listBaseParams,
  listLoraParams,
  packableWeights,
} from "./llama-model.ts";
import { attachLora } from "./lora.ts";
import type { LlamaConfig } from "./model-config.ts";
import { crossEntropy } from "./ops/cross-entropy.ts";
import { type Param, setTrainable } from "./param.ts";
import { makeTinyConfig } from "./test-helpers.ts";

const B = 2;
const T = 5;

function makeBatch(V: number): { ids: Int32Array; targets: Int32Array } {
  const rng = Rng.fromSeed(7);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? -1 : rng.int(V)));
  return { ids, targets };
}

/** packed-batch segments for the pass (null: one example per row) */
let segStart: Int32Array | null = null;

/** dropout masks come from a fresh generator each pass, so ±eps passes see the same mask */
let dropoutSeed: number | null = null;
const dropoutRng = () => (dropoutSeed === null ? null : Rng.fromSeed(dropoutSeed));

function lossOf(model: LlamaModel, ids: Int32Array, targets: Int32Array): number {
  const tape = forwardTrain(model, ids, B, T, dropoutRng(), segStart);
  const { lossSum, count } = crossEntropy(tape.logits, targets, B * T, model.config.vocabSize, 1, false);
  return lossSum / count;
}

function buildModel(config: LlamaConfig, withLora: boolean, dropout = 0): LlamaModel {
  const model = allocateModel(config, "f64");
  initializeModel(model, 3, 0.4);
  // non-trivial norm weights and biases so their gradients are exercised
  const rng = Rng.fromSeed(11);
  for (const p of listBaseParams(model)) {
    if (p.name.includes("norm") || p.name.endsWith(".bias"))
      for (let i = 0; i < p.data.length; i++) p.data[i] = 1 + 0.3 * rng.normal();
  }
  if (withLora) {
    attachLora(
      model,
      {
        r: 2,
        alpha: 3,
        dropout: 0,
        targetModules: ["q_proj", "v_proj", "o_proj", "down_proj", "up_proj"],
        useRslora: false,
      },
      5,
    );
    for (const p of listLoraParams(model))
      for (let i = 0; i < p.data.length; i++) p.data[i] = 0.3 * rng.normal();
  }
  return model;
}

function checkGradients(model: LlamaModel, params: Param[]): number {
  const { ids, targets } = makeBatch(model.config.vocabSize);
  const tape = forwardTrain(model, ids, B, T, dropoutRng(), segStart);
  const count = targets.filter((t) => t >= 0).length;
  const ce = crossEntropy(tape.logits, targets, B * T, model.config.vocabSize, 1 / count, true);
  backwardTrain(model, tape, ce.dlogits!);
  let worst = 0;
  const eps = 1e-6;
  for (const p of params) {
    const step = Math.max(1, Math.floor(p.data.length / 7));
    for (let i = 0; i < p.data.length; i += step) {
      const row = Math.floor(i / (p.shape[1] ?? 1));
      const orig = p.data[i] as number;
      p.data[i] = orig + eps;
      const up = lossOf(model, ids, targets);
      p.data[i] = orig - eps;
      const down = lossOf(model, ids, targets);
      p.data[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const analytic = row < p.trainFromRow ? 0 : (p.grad![i] as number);
      const expected = row < p.trainFromRow ? 0 : numeric;
      const err = Math.abs(analytic - expected) / Math.max(1e-4, Math.abs(expected) + Math.abs(analytic));
      if (err > 1e-4) throw new Error(`${p.name}[${i}]: analytic ${analytic} vs numeric ${numeric}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

describe("Llama forward/backward against float64 finite differences", () => {
  it("full fine-tune: every base parameter (untied head, GQA, q/k/v biases)", () => {
    const model = buildModel(makeTinyConfig({ qkvBias: true, oBias: true }), false);
    const params = listBaseParams(model);
    for (const p of params) setTrainable(p, true);
    expect(checkGradients(model, params)).toBeLessThan(1e-4);
  });

  it("LoRA on attention and MLP with a tied, row-masked embedding", () => {
    const model = buildModel(makeTinyConfig({ tieWordEmbeddings: true, numKvHeads: 2 }), true);
    setTrainable(model.embed, true, 10);
    const params = [...listLoraParams(model), model.embed];
    expect(checkGradients(model, params)).toBeLessThan(1e-4);
  });

  it("Qwen3: full fine-tune with q_norm/k_norm and head_dim apart from hidden/heads", () => {
    // hidden 8, 2 heads of 6 (≠ 8/2), GQA 1 kv head, attention_bias on q/k/v/o
    const config = makeTinyConfig({
      modelType: "qwen3",
      qkNorm: true,
      headDim: 6,
      qkvBias: true,
      oBias: true,
      tieWordEmbeddings: true,
    });
    const model = buildModel(config, false);
    expect(model.layers[0]!.qNorm!.shape).toEqual([6]);
    expect(model.layers[0]!.linears.q_proj.weight.shape).toEqual([12, 8]);
    const params = listBaseParams(model);
    for (const p of params) setTrainable(p, true);
    expect(checkGradients(model, params)).toBeLessThan(1e-4);
  });

  it("Qwen3: LoRA on q/k/v/o through the q/k norms (frozen base)", () => {
    const config = makeTinyConfig({ modelType: "qwen3", qkNorm: true, headDim: 6, numKvHeads: 2 });
    const model = buildModel(config, true);
    expect(checkGradients(model, listLoraParams(model))).toBeLessThan(1e-4);
  });

  it("LoRA with dropout (a fixed mask)", () => {
    const model = buildModel(makeTinyConfig(), true, 0.3);
    dropoutSeed = 21;
    try {
      expect(checkGradients(model, listLoraParams(model))).toBeLessThan(1e-4);
    } finally {
      dropoutSeed = null;
    }
  });
});

describe("packed batches (several examples per sequence)", () => {
  it("gradients match finite differences with segments (LoRA, GQA, frozen embedding)", () => {
    const model = buildModel(makeTinyConfig({ numKvHeads: 1 }), true);
    // sequence 0 holds examples at [0, 2) and [2, 5); sequence 1 at [0, 1) and [1, 5)
    segStart = Int32Array.from([0, 0, 2, 2, 2, 0, 1, 1, 1, 1]);
    try {
      expect(checkGradients(model, listLoraParams(model))).toBeLessThan(1e-4);
    } finally {
      segStart = null;
    }
  });

  const packedEqualsSeparate = (dtype: "f32" | "f64", threads: number) => {
    const config = makeTinyConfig({
      numHeads: 4,
      numKvHeads: 2,
      hiddenSize: 32,
      headDim: 8,
      intermediateSize: 40,
    });
    const model = allocateModel(config, dtype);
    initializeModel(model, 4, 0.3);
    const rng = Rng.fromSeed(5);
    const lengths = [3, 6, 4];
    const examples = lengths.map((n) => Int32Array.from({ length: n }, () => rng.int(config.vocabSize)));
    const V = config.vocabSize;
    const Tp = lengths.reduce((a, b) => a + b, 0);
    const seg = new Int32Array(Tp);
    let at = 0;
    for (const n of lengths) {
      seg.fill(at, at, at + n);
      at += n;
    }
    const ids = new Int32Array(Tp);
    examples.reduce((o, e) => (ids.set(e, o), o + e.length), 0);
    setMatmulThreads(threads);
    try {
      const run = <R>(f: () => R): R => (dtype === "f32" ? runInArena(f) : f());
      const packed = run(() => Array.from(forwardTrain(model, ids, 1, Tp, null, seg).logits));
      let offset = 0;
      for (const e of examples) {
        const alone = run(() => Array.from(forwardTrain(model, e, 1, e.length, null).logits));
        for (let i = 0; i < alone.length; i++) {
          const p = packed[offset * V + i] as number;
          expect(Math.abs(p - (alone[i] as number))).toBeLessThan(dtype === "f64" ? 1e-12 : 1e-5);
        }
        offset += e.length;
      }
    } finally {
      setMatmulThreads(1);
    }
  };

  it("a packed sequence gives each example the logits it has alone (float64, JS path)", () => {
    packedEqualsSeparate("f64", 1);
  });

  it("a packed sequence gives each example the logits it has alone (float32 wasm, one and two threads)", () => {
    packedEqualsSeparate("f32", 1);
    packedEqualsSeparate("f32", 2);
  });
});

describe("frozen base kept in wasm memory (packWeights)", () => {
  // packing serves the WebAssembly products; the native kernels read weights in place
  beforeAll(() => setMatmulKernel("wasm"));
  afterAll(() => setMatmulKernel("auto"));

  it("a LoRA step gives the same gradients bit for bit packed or not", () => {
    const config = makeTinyConfig({
      numHeads: 4,
      numKvHeads: 2,
      hiddenSize: 32,
      headDim: 8,
      intermediateSize: 40,
    });
    const model = allocateModel(config, "f32");
    initializeModel(model, 4, 0.3);
    attachLora(
      model,
      { r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"], useRslora: false },
      2,
    );
    const lora = listLoraParams(model);
    const rng = Rng.fromSeed(3);
    for (const p of lora) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.2 * rng.normal();
    const ids = Int32Array.from({ length: 2 * 9 }, () => rng.int(config.vocabSize));
    const targets = Int32Array.from({ length: 2 * 9 }, () => rng.int(config.vocabSize));
    const grads = () => {
      for (const p of lora) p.grad?.fill(0);
      runInArena(() => {
        const tape = forwardTrain(model, ids, 2, 9, null);
        const ce = crossEntropy(tape.logits, targets, 18, config.vocabSize, 1 / 18, true);
        backwardTrain(model, tape, ce.dlogits!);
      });
      return lora.flatMap((p) => Array.from(p.grad ?? []));
    };
    const unpacked = grads();
    const frozen = packableWeights(model, true);
    expect(frozen.length).toBe(2 * 7 + 1); // every base linear and the head; no LoRA factor
    const unpack = packWeights(frozen, true);
    try {
      expect(packedWeightCount()).toBe(frozen.length);
      expect(grads()).toEqual(unpacked);
    } finally {
      unpack();
    }
    expect(packedWeightCount()).toBe(0);
    expect(grads()).toEqual(unpacked);
  });
});
