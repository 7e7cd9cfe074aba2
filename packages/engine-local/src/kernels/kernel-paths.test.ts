import { afterAll, describe, expect, it } from "vitest";
import { backwardTrain, forwardTrain } from "../model/llama-forward.ts";
import { allocateModel, initializeModel, listLoraParams } from "../model/llama-model.ts";
import { attachLora } from "../model/lora.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { activeMatmulKernel, describeMatmulKernel, setMatmulKernel, setWasmMatmul } from "./matmul.ts";
import { loadNativeKernel } from "./native-kernel.ts";
import { setMatmulThreads } from "./parallel.ts";
import { Rng } from "./rng.ts";
import { runInArena } from "./wasm-memory.ts";

/**
 * A whole LoRA step (forward, loss, backward) in float32 on each kernel path against the same
 * step in float64 (plain JS): the WebAssembly path is forced here so that it keeps being tested
 * while native kernels are the default (the CLI forces it with DISTILLERY_ENGINE_KERNEL=wasm).
 */
const config = makeTinyConfig({
  vocabSize: 97,
  hiddenSize: 40,
  intermediateSize: 72,
  numHeads: 5,
  numKvHeads: 1,
  headDim: 8,
});
const B = 2;
const T = 11;

function step(dtype: "f32" | "f64"): { logits: number[]; grads: number[] } {
  const model = allocateModel(config, dtype);
  initializeModel(model, 4, 0.3);
  attachLora(
    model,
    {
      r: 4,
      alpha: 8,
      dropout: 0,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
      useRslora: false,
    },
    2,
  );
  const rng = Rng.fromSeed(3);
  const lora = listLoraParams(model);
  for (const p of lora) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.2 * rng.normal();
  const ids = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize));
  const run = () => {
    const tape = forwardTrain(model, ids, B, T, null);
    const ce = crossEntropy(tape.logits, targets, B * T, config.vocabSize, 1 / (B * T), true);
    if (!ce.dlogits) throw new Error("no dlogits");
    backwardTrain(model, tape, ce.dlogits);
    return { logits: Array.from(tape.logits), grads: lora.flatMap((p) => Array.from(p.grad ?? [])) };
  };
  return dtype === "f32" ? runInArena(run) : run();
}

function expectClose(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < got.length; i++)
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst / scale).toBeLessThan(2e-5);
}

const reference = step("f64");

afterAll(() => {
  setMatmulKernel("auto");
  setWasmMatmul(true);
  setMatmulThreads(1);
});

describe("a float32 LoRA step on each kernel path equals float64", () => {
  for (const threads of [1, 2]) {
    it(`WebAssembly (forced), ${threads} thread(s)`, () => {
      setMatmulKernel("wasm");
      setMatmulThreads(threads);
      expect(activeMatmulKernel()).toMatch(/^wasm-/);
      const got = step("f32");
      expectClose(got.logits, reference.logits);
      expectClose(got.grads, reference.grads);
    });

    it.skipIf(!loadNativeKernel())(`native (forced), ${threads} thread(s)`, () => {
      setMatmulKernel("native");
      setMatmulThreads(threads);
      expect(activeMatmulKernel()).toMatch(/^native-/);
      const got = step("f32");
      expectClose(got.logits, reference.logits);
      expectClose(got.grads, reference.grads);
    });
  }

  // each native SIMD variant this CPU runs (AVX-512 and AVX2 here), forced by name
  for (const variant of (loadNativeKernel()?.kernels() ?? []).filter((v) => v !== "scalar")) {
    it(`native-${variant} (forced), 2 threads`, () => {
      setMatmulKernel(`native-${variant}`);
      setMatmulThreads(2);
      expect(activeMatmulKernel()).toBe(`native-${variant}`);
      const got = step("f32");
      expectClose(got.logits, reference.logits);
      expectClose(got.grads, reference.grads);
    });
  }

  it("auto picks the best native SIMD kernel with the addon built, and says which in one line", () => {
    setMatmulKernel("auto");
    const native = loadNativeKernel();
    const best = native?.kernel();
    if (best && best !== "scalar") {
      expect(activeMatmulKernel()).toBe(`native-${best}`);
      expect(describeMatmulKernel()).toBe(`matmul kernel native-${best}`);
    } else expect(describeMatmulKernel()).toMatch(/^matmul kernel wasm-.* \(native kernels: /);
    expect(() => setMatmulKernel("gpu")).toThrow(/auto, native, native-<avx512\|avx2\|neon\|scalar> or wasm/);
    if (native && !native.kernels().includes("neon"))
      expect(() => setMatmulKernel("native-neon")).toThrow(/not available on this CPU/);
  });
});
