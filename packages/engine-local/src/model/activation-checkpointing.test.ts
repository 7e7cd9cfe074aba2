import { afterAll, describe, expect, it } from "vitest";
import { setMatmulKernel } from "../kernels/matmul.ts";
import { loadNativeKernel } from "../kernels/native-kernel.ts";
import { setMatmulThreads } from "../kernels/parallel.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain, setActivationCheckpointing, tapeBytes } from "./llama-forward.ts";
import { allocateModel, initializeModel, listLoraParams } from "./llama-model.ts";
import { attachLora } from "./lora.ts";
import { crossEntropy } from "./ops/cross-entropy.ts";
import { makeTinyConfig } from "./test-helpers.ts";

/**
 * Activation checkpointing (each layer's tape recomputed in the backward from its input and its
 * dropout RNG state) gives the same logits and gradients bit for bit as the full tape: LoRA
 * dropout, a packed batch, Qwen3 q/k norms, GQA, float32 (native and wasm paths) and float64.
 */
const B = 2;
const T = 9;

function step(
  dtype: "f32" | "f64",
  qkNorm: boolean,
): { logits: number[]; grads: number[]; hidden: number[] } {
  const config = makeTinyConfig({
    vocabSize: 61,
    hiddenSize: 24,
    intermediateSize: 40,
    numLayers: 3,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 6,
    qkNorm,
  });
  const model = allocateModel(config, dtype);
  initializeModel(model, 4, 0.3);
  attachLora(
    model,
    {
      r: 3,
      alpha: 6,
      dropout: 0.2,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "down_proj"],
      useRslora: false,
    },
    2,
  );
  const rng = Rng.fromSeed(3);
  const lora = listLoraParams(model);
  for (const p of lora) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.2 * rng.normal();
  const ids = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize));
  // sequence 0 packs two examples (3 + 6 positions), sequence 1 is one example
  const seg = Int32Array.from([0, 0, 0, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const run = () => {
    const tape = forwardTrain(model, ids, B, T, Rng.fromSeed(17), seg);
    const hidden = Array.from(tape.layers[1]?.x ?? []);
    const ce = crossEntropy(tape.logits, targets, B * T, config.vocabSize, 1 / (B * T), true);
    if (!ce.dlogits) throw new Error("no dlogits");
    backwardTrain(model, tape, ce.dlogits);
    return { logits: Array.from(tape.logits), grads: lora.flatMap((p) => Array.from(p.grad ?? [])), hidden };
  };
  return dtype === "f32" ? runInArena(run) : run();
}

function both(dtype: "f32" | "f64", qkNorm: boolean) {
  setActivationCheckpointing("off");
  const full = step(dtype, qkNorm);
  setActivationCheckpointing("on");
  const checkpointed = step(dtype, qkNorm);
  setActivationCheckpointing("auto");
  return { full, checkpointed };
}

afterAll(() => {
  setActivationCheckpointing("auto");
  setMatmulKernel("auto");
  setMatmulThreads(1);
});

describe("activation checkpointing", () => {
  for (const kernel of loadNativeKernel() ? ["native", "wasm"] : ["wasm"])
    for (const qkNorm of [false, true])
      it(`float32 ${kernel}, 2 threads${qkNorm ? ", q/k norms" : ""}: same logits, hidden states and gradients bit for bit`, () => {
        setMatmulKernel(kernel);
        setMatmulThreads(2);
        const { full, checkpointed } = both("f32", qkNorm);
        expect(full.grads.some((g) => g !== 0)).toBe(true);
        expect(checkpointed.logits).toEqual(full.logits);
        expect(checkpointed.hidden).toEqual(full.hidden);
        expect(checkpointed.grads).toEqual(full.grads);
      });

  it("float64 (the gradient checks' dtype): same gradients", () => {
    const { full, checkpointed } = both("f64", true);
    expect(checkpointed.logits).toEqual(full.logits);
    expect(checkpointed.grads).toEqual(full.grads);
  });

  it("auto turns on for a 135M student at 4×512 tokens and stays off for small steps", () => {
    const student = allocateModel(
      makeTinyConfig({
        vocabSize: 8,
        hiddenSize: 576,
        intermediateSize: 1536,
        numLayers: 30,
        numHeads: 9,
        numKvHeads: 3,
        headDim: 64,
      }),
      "f32",
    );
    expect(tapeBytes(student, 4, 512)).toBeGreaterThan(3e9);
    expect(tapeBytes(student, 1, 64)).toBeLessThan(768 << 20);
  });
});
