/** The shapes that decide how many parameters LoRA adds (Llama-family naming). */
export interface ModelShape {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  vocabSize: number;
  headDim?: number;
  tieWordEmbeddings?: boolean;
}

/** Hub models people start from, with the numbers from their config.json. */
export const KNOWN_MODEL_SHAPES: Record<string, ModelShape> = {
  "microsoft/Phi-3-mini-4k-instruct": {
    hiddenSize: 3072,
    intermediateSize: 8192,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    vocabSize: 32064,
  },
  "microsoft/Phi-3-mini-128k-instruct": {
    hiddenSize: 3072,
    intermediateSize: 8192,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    vocabSize: 32064,
  },
  "Qwen/Qwen2.5-0.5B-Instruct": {
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    vocabSize: 151936,
    tieWordEmbeddings: true,
  },
  "Qwen/Qwen2.5-1.5B-Instruct": {
    hiddenSize: 1536,
    intermediateSize: 8960,
    numLayers: 28,
    numHeads: 12,
    numKvHeads: 2,
    vocabSize: 151936,
    tieWordEmbeddings: true,
  },
  "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": {
    hiddenSize: 1536,
    intermediateSize: 8960,
    numLayers: 28,
    numHeads: 12,
    numKvHeads: 2,
    vocabSize: 151936,
  },
  "meta-llama/Llama-3.2-1B-Instruct": {
    hiddenSize: 2048,
    intermediateSize: 8192,
    numLayers: 16,
    numHeads: 32,
    numKvHeads: 8,
    vocabSize: 128256,
    tieWordEmbeddings: true,
  },
  "TinyLlama/TinyLlama-1.1B-Chat-v1.0": {
    hiddenSize: 2048,
    intermediateSize: 5632,
    numLayers: 22,
    numHeads: 32,
    numKvHeads: 4,
    vocabSize: 32000,
  },
};

const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined;

/** Reads a shape from an HF config.json (snake_case) or an engine config (camelCase). */
export function shapeFromModelConfig(config: unknown): ModelShape | null {
  if (!config || typeof config !== "object") return null;
  const c = config as Record<string, unknown>;
  const hiddenSize = num(c.hidden_size) ?? num(c.hiddenSize);
  const numLayers = num(c.num_hidden_layers) ?? num(c.numLayers);
  const numHeads = num(c.num_attention_heads) ?? num(c.numHeads);
  if (!hiddenSize || !numLayers || !numHeads) return null;
  return {
    hiddenSize,
    numLayers,
    numHeads,
    intermediateSize: num(c.intermediate_size) ?? num(c.intermediateSize) ?? hiddenSize * 4,
    numKvHeads: num(c.num_key_value_heads) ?? num(c.numKvHeads) ?? numHeads,
    vocabSize: num(c.vocab_size) ?? num(c.vocabSize) ?? 0,
    headDim: num(c.head_dim) ?? num(c.headDim),
    tieWordEmbeddings: (c.tie_word_embeddings ?? c.tieWordEmbeddings) === true,
  };
}

/** (in, out) features of each LoRA-targetable linear layer. */
export function linearShapes(shape: ModelShape): Record<string, [number, number]> {
  const headDim = shape.headDim ?? shape.hiddenSize / shape.numHeads;
  const q = shape.numHeads * headDim;
  const kv = shape.numKvHeads * headDim;
  return {
    q_proj: [shape.hiddenSize, q],
    k_proj: [shape.hiddenSize, kv],
    v_proj: [shape.hiddenSize, kv],
    o_proj: [q, shape.hiddenSize],
    gate_proj: [shape.hiddenSize, shape.intermediateSize],
    up_proj: [shape.hiddenSize, shape.intermediateSize],
    down_proj: [shape.intermediateSize, shape.hiddenSize],
  };
}
