import type { RunConfig } from "@distillery/core";
import { linearShapes, type ModelShape } from "./model-shapes.ts";

/**
 * The numbers shown before launch. Pure functions of the config, the model's shape, the dataset
 * version's size and the throughput workers measured, so the form and its tests agree.
 */

/** LoRA adds A (r × in) and B (out × r) per targeted module per layer: r · (in + out). */
export function countLoraParameters(
  shape: ModelShape,
  lora: Pick<RunConfig["lora"], "r" | "targetModules">,
): number {
  const shapes = linearShapes(shape);
  let perLayer = 0;
  for (const target of lora.targetModules) {
    const io = shapes[target];
    if (io) perLayer += lora.r * (io[0] + io[1]);
  }
  return perLayer * shape.numLayers;
}

/** Every weight of a Llama-family model (for method "full"). */
export function countModelParameters(shape: ModelShape): number {
  const linear = Object.values(linearShapes(shape)).reduce((n, [i, o]) => n + i * o, 0);
  const norms = 2 * shape.hiddenSize;
  const embeddings = shape.vocabSize * shape.hiddenSize * (shape.tieWordEmbeddings ? 1 : 2);
  return shape.numLayers * (linear + norms) + shape.hiddenSize + embeddings;
}

/** Trainable parameters of a run: LoRA adapters (or every weight) plus rows of added special tokens. */
export function countTrainableParameters(
  shape: ModelShape,
  config: Pick<RunConfig, "lora" | "specialTokens">,
): number {
  const base =
    config.lora.method === "full" ? countModelParameters(shape) : countLoraParameters(shape, config.lora);
  // new special tokens get fresh embedding (and untied output) rows, which train
  const added =
    config.lora.method === "full"
      ? 0
      : config.specialTokens.length * shape.hiddenSize * (shape.tieWordEmbeddings ? 1 : 2);
  return base + added;
}

export interface DatasetSize {
  rows: number;
  /** mean tokens per row from the version's token statistics, when computed */
  meanTokens?: number;
}

/** Finds the mean total tokens per row in a dataset version's stats, wherever it was stored. */
export function readMeanTokens(stats: unknown): number | undefined {
  if (!stats || typeof stats !== "object") return undefined;
  const s = stats as Record<string, unknown>;
  const mean = (s.histograms as { total?: { mean?: unknown } } | undefined)?.total?.mean;
  if (typeof mean === "number" && mean > 0) return mean;
  for (const key of ["meanTokens", "avgTokens", "meanTotalTokens"]) {
    const v = s[key];
    if (typeof v === "number" && v > 0) return v;
  }
  for (const key of ["tokens", "tokenStats", "total"]) {
    const nested = readMeanTokens(s[key]);
    if (nested) return nested;
  }
  return undefined;
}

/** Rows assumed when a version has no token statistics: a rough reasoning-trace length. */
export const ASSUMED_TOKENS_PER_ROW = 256;

/** Rows the engine trains on: the eval fraction is held out when the run evaluates. */
export function countTrainRows(rows: number, config: Pick<RunConfig, "data" | "training">): number {
  if (config.training.evalStrategy === "no" || config.data.evalFraction <= 0 || rows < 2) return rows;
  return rows - Math.max(1, Math.floor(rows * config.data.evalFraction));
}

export interface LaunchSummary {
  trainableParameters: number | null;
  trainRows: number;
  tokensPerEpoch: number;
  isTokensAssumed: boolean;
  stepsPerEpoch: number;
  optimizerSteps: number;
  /** epochs actually trained (max steps may cut it short) */
  epochs: number;
  tokensPerSecond: number | null;
  estimatedSeconds: number | null;
}

export function computeLaunchSummary(input: {
  config: Pick<RunConfig, "lora" | "specialTokens" | "data" | "training" | "resources">;
  shape: ModelShape | null;
  dataset: DatasetSize | null;
  tokensPerSecond: number | null;
}): LaunchSummary {
  const { config, shape, dataset } = input;
  const t = config.training;
  const rows = dataset?.rows ?? 0;
  const trainRows = countTrainRows(rows, config);
  const meanTokens = dataset?.meanTokens;
  // rows longer than maxSeqLength are truncated by the engine
  const perRow = Math.min(meanTokens ?? ASSUMED_TOKENS_PER_ROW, t.maxSeqLength);
  const tokensPerEpoch = Math.round(trainRows * perRow);
  const devices = Math.max(1, config.resources.gpus);
  const batchesPerEpoch = Math.ceil(trainRows / (t.perDeviceBatchSize * devices));
  const stepsPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / t.gradientAccumulationSteps));
  const optimizerSteps = t.maxSteps > 0 ? t.maxSteps : Math.max(1, Math.ceil(t.epochs * stepsPerEpoch));
  const epochs = optimizerSteps / stepsPerEpoch;
  const tps = input.tokensPerSecond && input.tokensPerSecond > 0 ? input.tokensPerSecond : null;
  return {
    trainableParameters: shape ? countTrainableParameters(shape, config) : null,
    trainRows,
    tokensPerEpoch,
    isTokensAssumed: meanTokens === undefined,
    stepsPerEpoch,
    optimizerSteps,
    epochs,
    tokensPerSecond: tps,
    estimatedSeconds: tps && trainRows > 0 ? (tokensPerEpoch * epochs) / tps : null,
  };
}

/** 1234567 → "1.23M" */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** 4000 → "1 h 6 min" */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.round(h / 24)} days`;
}

/**
 * The tokens/s to expect for a model of `parameters`: past runs' speed scaled by model size when
 * they and this model have parameter counts (a 135M student runs ~1000× slower than a 135k toy),
 * else their plain median.
 */
export function expectedThroughput(
  measured: {
    tokensPerSecond: number;
    runs: number;
    parameterTokensPerSecond?: number | null;
    sizedRuns?: number;
  } | null,
  parameters: number | null,
): { tokensPerSecond: number; runs: number; isScaled: boolean } | null {
  if (!measured) return null;
  if (parameters && parameters > 0 && measured.parameterTokensPerSecond)
    return {
      tokensPerSecond: measured.parameterTokensPerSecond / parameters,
      runs: measured.sizedRuns ?? measured.runs,
      isScaled: true,
    };
  return { tokensPerSecond: measured.tokensPerSecond, runs: measured.runs, isScaled: false };
}
