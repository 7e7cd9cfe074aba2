import { describe, expect, it } from "vitest";
import { presetConfig } from "./presets.ts";
import { ZRunConfig } from "./run-config.ts";

describe("presets", () => {
  it("reproduces the seed recipe of DESIGN.md field for field", () => {
    const c = presetConfig("seed-recipe", "dv_1");
    expect(c.model.id).toBe("microsoft/Phi-3-mini-4k-instruct");
    expect(c.data).toMatchObject({ template: "phi3", evalFraction: 0.1, datasetVersionId: "dv_1" });
    expect(c.specialTokens).toEqual(["<think>", "</think>"]);
    expect(c.padToken).toBe("eos");
    expect(c.lora).toEqual({
      method: "lora",
      r: 8,
      alpha: 16,
      dropout: 0.2,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      bias: "none",
      useRslora: false,
      useDora: false,
      quantization: "none",
    });
    expect(c.training).toMatchObject({
      epochs: 3,
      perDeviceBatchSize: 2,
      gradientAccumulationSteps: 4,
      learningRate: 2e-5,
      scheduler: "cosine",
      warmupRatio: 0.03,
      maxGradNorm: 0.3,
      precision: "fp16",
      optimizer: "paged_adamw_32bit",
      evalStrategy: "epoch",
      saveStrategy: "epoch",
      loggingSteps: 50,
    });
    expect(c.sampling.temperature).toBe(0.7);
    expect(c.merge.mergeAndUnload).toBe(true);
    expect(c.engine).toBe("hf");
  });

  it("names the field and the reason of an invalid config", () => {
    const bad = ZRunConfig.safeParse({
      model: { id: "m" },
      data: { datasetVersionId: "dv" },
      lora: { r: 0, targetModules: [] },
      training: { learningRate: -1, maxSteps: 0 },
    });
    expect(bad.success).toBe(false);
    const issues = bad.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(issues).toEqual(
      expect.arrayContaining([
        "lora.r: r must be at least 1",
        "lora.targetModules: pick at least one target module",
        "training.learningRate: learning rate must be positive",
      ]),
    );
  });
});
