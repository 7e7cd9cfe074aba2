import { describe, expect, it } from "vitest";
import { Rng } from "../kernels/rng.ts";
import { backwardTrain, forwardTrain } from "./llama-forward.ts";
import {
  allocateModel,
  initializeModel,
  type LlamaModel,
  listBaseParams,
  listLoraParams,
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

/** dropout masks come from a fresh generator each pass, so ±eps passes see the same mask */
let dropoutSeed: number | null = null;
const dropoutRng = () => (dropoutSeed === null ? null : Rng.fromSeed(dropoutSeed));

function lossOf(model: LlamaModel, ids: Int32Array, targets: Int32Array): number {
  const tape = forwardTrain(model, ids, B, T, dropoutRng());
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
  const tape = forwardTrain(model, ids, B, T, dropoutRng());
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
