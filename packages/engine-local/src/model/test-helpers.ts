import type { LlamaConfig } from "./model-config.ts";

/** A tiny config that still exercises every code path: GQA, biases, untied head. */
export function makeTinyConfig(over: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    modelType: "llama",
    vocabSize: 13,
    hiddenSize: 8,
    intermediateSize: 12,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositions: 64,
    tieWordEmbeddings: false,
    qkvBias: false,
    oBias: false,
    bosTokenId: null,
    eosTokenIds: [1],
    padTokenId: null,
    ...over,
  };
}
