import { z } from "zod";
import { EngineError } from "../engine-error.ts";

/**
 * The subset of an HF `config.json` that decides the Llama / Qwen2 / Qwen3 math. Field names are
 * HF's. Qwen2 is the same network with biases on q/k/v; Qwen3 drops them and adds an RMSNorm over
 * each head of q and k (q_norm / k_norm) before RoPE, with head_dim set apart from hidden/heads.
 * SmolLM2 is a Llama checkpoint.
 */
const ZHfConfig = z.object({
  model_type: z.string().default("llama"),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().nullish(),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  max_position_embeddings: z.number().int().positive().default(2048),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  hidden_act: z.string().default("silu"),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
  pad_token_id: z.number().int().nullish(),
  use_sliding_window: z.boolean().nullish(),
  sliding_window: z.number().int().nullish(),
  max_window_layers: z.number().int().nullish(),
  layer_types: z.array(z.string()).nullish(),
});

const MODEL_TYPES = ["llama", "qwen2", "qwen3"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface LlamaConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** biases on q/k/v (Qwen2) */
  qkvBias: boolean;
  /** bias on o_proj too (Llama / Qwen3 attention_bias) */
  oBias: boolean;
  /** RMSNorm over each head of q and k before RoPE (Qwen3's q_norm / k_norm, weight [head_dim]) */
  qkNorm?: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /**
   * the config.json this was read from: saving writes it back with only what the engine changed
   * (vocab_size, dtype), so keys of the architecture it does not use (Qwen2's sliding-window keys,
   * initializer_range, transformers_version…) are kept
   */
  source?: Record<string, unknown>;
}

export function parseModelConfig(raw: unknown, where = "config.json"): LlamaConfig {
  const parsed = ZHfConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EngineError(
      "model_invalid",
      `${where}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
      {
        field: "model.id",
      },
    );
  }
  const c = parsed.data;
  if (!(MODEL_TYPES as readonly string[]).includes(c.model_type)) {
    throw new EngineError(
      "model_invalid",
      `${where}: model_type "${c.model_type}" is not supported (${MODEL_TYPES.join(", ")})`,
      {
        field: "model.id",
      },
    );
  }
  const modelType = c.model_type as ModelType;
  // Qwen2/3 checkpoints carry sliding-window keys but switch the window off; with it on, layers
  // from max_window_layers up attend to a window only, which the engine does not implement
  if (c.use_sliding_window || c.layer_types?.some((t) => t !== "full_attention")) {
    throw new EngineError(
      "model_invalid",
      `${where}: sliding-window attention (use_sliding_window / layer_types) is not supported`,
      { field: "model.id" },
    );
  }
  if (c.hidden_act !== "silu") throw new EngineError("model_invalid", `${where}: hidden_act must be silu`);
  if (c.mlp_bias) throw new EngineError("model_invalid", `${where}: mlp_bias is not supported`);
  if (c.rope_scaling && c.rope_scaling.rope_type !== "default" && c.rope_scaling.type !== "default") {
    throw new EngineError(
      "model_invalid",
      `${where}: rope_scaling ${JSON.stringify(c.rope_scaling)} is not supported`,
    );
  }
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  // Qwen3Config defaults head_dim to 128; the others derive it
  const headDim = c.head_dim ?? (modelType === "qwen3" ? 128 : c.hidden_size / c.num_attention_heads);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new EngineError("model_invalid", `${where}: head dim ${headDim} must be an even integer`);
  }
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new EngineError(
      "model_invalid",
      `${where}: num_attention_heads must be a multiple of num_key_value_heads`,
    );
  }
  const eos = c.eos_token_id;
  return {
    modelType,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    maxPositions: c.max_position_embeddings,
    tieWordEmbeddings: c.tie_word_embeddings,
    qkvBias: modelType === "qwen2" || c.attention_bias,
    oBias: modelType !== "qwen2" && c.attention_bias,
    qkNorm: modelType === "qwen3",
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
    padTokenId: c.pad_token_id ?? null,
    ...(raw && typeof raw === "object" && !Array.isArray(raw)
      ? { source: raw as Record<string, unknown> }
      : {}),
  };
}

const ARCHITECTURES: Record<ModelType, string> = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
};

/**
 * The HF config.json written for a model (float32 weights). A config read from a file is written
 * back as it was, with vocab_size (grown by added tokens) and the dtype changed, so nothing of
 * the architecture is lost; a model the engine created gets the full config below.
 */
export function serializeModelConfig(c: LlamaConfig): Record<string, unknown> {
  if (c.source) {
    const out: Record<string, unknown> = { ...c.source, vocab_size: c.vocabSize, torch_dtype: "float32" };
    if ("dtype" in c.source) out.dtype = "float32"; // transformers ≥ 4.56 names it dtype
    return out;
  }
  return {
    architectures: [ARCHITECTURES[c.modelType]],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    max_position_embeddings: c.maxPositions,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.modelType === "qwen2" ? undefined : c.oBias,
    mlp_bias: false,
    hidden_act: "silu",
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId,
    torch_dtype: "float32",
    use_cache: true,
  };
}
