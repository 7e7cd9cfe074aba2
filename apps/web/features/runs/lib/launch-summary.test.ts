import { presetConfig, ZRunConfig } from "@distillery/core";
import { describe, expect, it } from "vitest";
import {
  computeLaunchSummary,
  countLoraParameters,
  countModelParameters,
  countTrainRows,
  expectedThroughput,
  formatDuration,
  readMeanTokens,
} from "./launch-summary.ts";
import { KNOWN_MODEL_SHAPES, shapeFromModelConfig } from "./model-shapes.ts";

const shapeOf = (id: string) => {
  const shape = KNOWN_MODEL_SHAPES[id];
  if (!shape) throw new Error(`no shape for ${id}`);
  return shape;
};
const phi3 = shapeOf("microsoft/Phi-3-mini-4k-instruct");

describe("countLoraParameters", () => {
  it("is r·(in+out) per target module per layer: Phi-3-mini, r8 on q/k/v/o", () => {
    // 4 modules × 8 × (3072 + 3072) × 32 layers
    expect(countLoraParameters(phi3, { r: 8, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"] })).toBe(
      6_291_456,
    );
  });

  it("uses grouped-query shapes for k/v and the MLP width for gate/up/down", () => {
    const shape = {
      hiddenSize: 64,
      intermediateSize: 256,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      vocabSize: 512,
    };
    // k_proj: 64 → 2·16 = 32; down_proj: 256 → 64
    expect(countLoraParameters(shape, { r: 4, targetModules: ["k_proj"] })).toBe(2 * 4 * (64 + 32));
    expect(countLoraParameters(shape, { r: 4, targetModules: ["down_proj"] })).toBe(2 * 4 * (256 + 64));
  });

  it("counts a Llama model's weights like transformers does (TinyLlama 1.1B)", () => {
    expect(countModelParameters(shapeOf("TinyLlama/TinyLlama-1.1B-Chat-v1.0"))).toBe(1_100_048_384);
  });
});

describe("shapeFromModelConfig", () => {
  it("reads an HF config.json", () => {
    expect(
      shapeFromModelConfig({
        hidden_size: 128,
        intermediate_size: 512,
        num_hidden_layers: 4,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        vocab_size: 600,
        tie_word_embeddings: true,
      }),
    ).toEqual({
      hiddenSize: 128,
      intermediateSize: 512,
      numLayers: 4,
      numHeads: 4,
      numKvHeads: 2,
      vocabSize: 600,
      headDim: undefined,
      tieWordEmbeddings: true,
    });
    expect(shapeFromModelConfig({ model_type: "llama" })).toBeNull();
  });
});

describe("computeLaunchSummary", () => {
  const seed = presetConfig("seed-recipe", "dv_1");

  it("holds out the eval fraction, then counts steps as the trainer does", () => {
    // 10 000 rows, 10 % held out → 9 000; batch 2 × accumulation 4 → 1 125 steps an epoch, 3 epochs
    const s = computeLaunchSummary({
      config: seed,
      shape: phi3,
      dataset: { rows: 10_000, meanTokens: 700 },
      tokensPerSecond: 2100,
    });
    expect(s.trainRows).toBe(9_000);
    expect(s.stepsPerEpoch).toBe(1_125);
    expect(s.optimizerSteps).toBe(3_375);
    expect(s.tokensPerEpoch).toBe(6_300_000);
    expect(s.isTokensAssumed).toBe(false);
    expect(s.trainableParameters).toBe(6_291_456 + 2 * 3072 * 2);
    expect(s.estimatedSeconds).toBeCloseTo((6_300_000 * 3) / 2100);
  });

  it("truncates rows at maxSeqLength, honours maxSteps, and gives no estimate without a measurement", () => {
    const config = ZRunConfig.parse({
      ...seed,
      training: { ...seed.training, maxSteps: 100, maxSeqLength: 512 },
    });
    const s = computeLaunchSummary({
      config,
      shape: null,
      dataset: { rows: 9_000, meanTokens: 900 },
      tokensPerSecond: null,
    });
    expect(s.tokensPerEpoch).toBe(countTrainRows(9_000, config) * 512);
    expect(s.optimizerSteps).toBe(100);
    expect(s.epochs).toBeCloseTo(100 / Math.ceil(Math.ceil(8_100 / 2) / 4));
    expect(s.trainableParameters).toBeNull();
    expect(s.estimatedSeconds).toBeNull();
  });

  it("assumes a row length when the version has no token statistics", () => {
    const s = computeLaunchSummary({
      config: seed,
      shape: phi3,
      dataset: { rows: 100 },
      tokensPerSecond: 1000,
    });
    expect(s.isTokensAssumed).toBe(true);
    expect(s.tokensPerEpoch).toBe(90 * 256);
  });

  it("spreads the batch over GPUs", () => {
    const config = ZRunConfig.parse({ ...seed, resources: { gpus: 4, strategy: "ddp" } });
    expect(
      computeLaunchSummary({ config, shape: phi3, dataset: { rows: 10_000 }, tokensPerSecond: null })
        .stepsPerEpoch,
    ).toBe(282);
  });
});

describe("readMeanTokens", () => {
  it("finds the mean row length in token statistics, wherever the version stored it", () => {
    expect(readMeanTokens({ histograms: { total: { mean: 321 } } })).toBe(321);
    expect(readMeanTokens({ tokens: { histograms: { total: { mean: 12 } } } })).toBe(12);
    expect(readMeanTokens({ meanTokens: 7 })).toBe(7);
    expect(readMeanTokens({})).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it("reads like a person would say it", () => {
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(4000)).toBe("1 h 7 min");
  });
});

describe("the run's length in the summary", () => {
  it("says what decides it, so epochs and max steps never disagree", async () => {
    const { describeLength } = await import("../components/launch-summary-panel.tsx");
    expect(describeLength({ stepsPerEpoch: 3, epochs: 266.666 }, 800, 3)).toBe(
      "set by max steps; 3 per epoch, so 266.67 passes over the data",
    );
    expect(describeLength({ stepsPerEpoch: 3, epochs: 3 }, -1, 3)).toBe("3 epochs × 3 per epoch");
  });
});

describe("expectedThroughput", () => {
  it("scales past runs' speed to the model's size when both have parameter counts", () => {
    const measured = { tokensPerSecond: 50_000, runs: 5, parameterTokensPerSecond: 1.35e10, sizedRuns: 4 };
    expect(expectedThroughput(measured, 135e6)).toEqual({ tokensPerSecond: 100, runs: 4, isScaled: true });
  });

  it("falls back to the plain median without counts, and to nothing without runs", () => {
    expect(
      expectedThroughput({ tokensPerSecond: 900, runs: 3, parameterTokensPerSecond: null }, 135e6),
    ).toEqual({
      tokensPerSecond: 900,
      runs: 3,
      isScaled: false,
    });
    expect(
      expectedThroughput({ tokensPerSecond: 900, runs: 3, parameterTokensPerSecond: 1e9 }, null),
    ).toMatchObject({
      isScaled: false,
    });
    expect(expectedThroughput(null, 135e6)).toBeNull();
  });
});
