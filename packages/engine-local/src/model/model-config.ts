import { z } from "zod";
import { EngineError } from "../engine-error.ts";

/**
 * The subset of an HF `config.json` that decides the Llama (and Qwen2) math. Field names are HF's.
 * Qwen2 is the same network with biases on q/k/v, so it is read as Llama with `attention_bias`
 * limited to those three projections.
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
});

export interface LlamaConfig {
  modelType: "llama" | "qwen2";
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
  /** bias on o_proj too (Llama attention_bias) */
  oBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
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
  if (c.model_type !== "llama" && c.model_type !== "qwen2") {
    throw new EngineError(
      "model_invalid",
      `${where}: model_type "${c.model_type}" is not supported (llama, qwen2)`,
      {
        field: "model.id",
      },
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
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
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
    modelType: c.model_type,
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
    qkvBias: c.model_type === "qwen2" || c.attention_bias,
    oBias: c.model_type === "llama" && c.attention_bias,
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
    padTokenId: c.pad_token_id ?? null,
  };
}

/** The HF config.json written for a model (always llama or qwen2, float32). */
export function serializeModelConfig(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: [c.modelType === "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
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
    attention_bias: c.modelType === "llama" ? c.oBias : undefined,
    mlp_bias: false,
    hidden_act: "silu",
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId,
    torch_dtype: "float32",
    use_cache: true,
  };
}
