import type { DType } from "../kernels/float-array.ts";
import type { PackableWeight } from "../kernels/matmul-wasm.ts";
import { Rng } from "../kernels/rng.ts";
import type { LlamaConfig } from "./model-config.ts";
import { createParam, type Param } from "./param.ts";

/** A LoRA pair on one Linear: y += scale · B(A(dropout(x))). A is [r, in], B is [out, r]. */
export interface LoraPair {
  a: Param;
  b: Param;
  r: number;
  scale: number;
  dropout: number;
}

export interface Linear {
  weight: Param; // [out, in], HF layout
  bias: Param | null;
  lora: LoraPair | null;
  inFeatures: number;
  outFeatures: number;
}

export const LINEAR_NAMES = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];

export interface LlamaLayer {
  inputNorm: Param;
  postNorm: Param;
  /** Qwen3's per-head RMSNorm of q and k (weight [head_dim]); null elsewhere */
  qNorm: Param | null;
  kNorm: Param | null;
  linears: Record<LinearName, Linear>;
}

export interface LlamaModel {
  config: LlamaConfig;
  dtype: DType;
  embed: Param;
  layers: LlamaLayer[];
  norm: Param;
  /** the same Param as `embed` when word embeddings are tied */
  lmHead: Param;
}

export function linearPrefix(layer: number, name: LinearName): string {
  const group =
    name.endsWith("_proj") && ["gate_proj", "up_proj", "down_proj"].includes(name) ? "mlp" : "self_attn";
  return `model.layers.${layer}.${group}.${name}`;
}

function makeLinear(prefix: string, inF: number, outF: number, bias: boolean, dtype: DType): Linear {
  return {
    weight: createParam(`${prefix}.weight`, [outF, inF], dtype),
    bias: bias ? createParam(`${prefix}.bias`, [outF], dtype) : null,
    lora: null,
    inFeatures: inF,
    outFeatures: outF,
  };
}

/** Allocates a model with zero weights and HF tensor names; loaders and initializers fill it. */
export function allocateModel(config: LlamaConfig, dtype: DType = "f32"): LlamaModel {
  const { hiddenSize: d, intermediateSize: ff, numHeads: h, numKvHeads: kvh, headDim: hd } = config;
  const embed = createParam("model.embed_tokens.weight", [config.vocabSize, d], dtype);
  const layers: LlamaLayer[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = (n: LinearName) => linearPrefix(l, n);
    layers.push({
      inputNorm: createParam(`model.layers.${l}.input_layernorm.weight`, [d], dtype),
      postNorm: createParam(`model.layers.${l}.post_attention_layernorm.weight`, [d], dtype),
      qNorm: config.qkNorm ? createParam(`model.layers.${l}.self_attn.q_norm.weight`, [hd], dtype) : null,
      kNorm: config.qkNorm ? createParam(`model.layers.${l}.self_attn.k_norm.weight`, [hd], dtype) : null,
      linears: {
        q_proj: makeLinear(p("q_proj"), d, h * hd, config.qkvBias, dtype),
        k_proj: makeLinear(p("k_proj"), d, kvh * hd, config.qkvBias, dtype),
        v_proj: makeLinear(p("v_proj"), d, kvh * hd, config.qkvBias, dtype),
        o_proj: makeLinear(p("o_proj"), h * hd, d, config.oBias, dtype),
        gate_proj: makeLinear(p("gate_proj"), d, ff, false, dtype),
        up_proj: makeLinear(p("up_proj"), d, ff, false, dtype),
        down_proj: makeLinear(p("down_proj"), ff, d, false, dtype),
      },
    });
  }
  const norm = createParam("model.norm.weight", [d], dtype);
  const lmHead = config.tieWordEmbeddings
    ? embed
    : createParam("lm_head.weight", [config.vocabSize, d], dtype);
  return { config, dtype, embed, layers, norm, lmHead };
}

/** Every base (non-LoRA) Param once, tied weights counted once. */
export function listBaseParams(m: LlamaModel): Param[] {
  const out: Param[] = [m.embed];
  for (const layer of m.layers) {
    out.push(layer.inputNorm);
    for (const n of LINEAR_NAMES) {
      const lin = layer.linears[n];
      out.push(lin.weight);
      if (lin.bias) out.push(lin.bias);
    }
    if (layer.qNorm) out.push(layer.qNorm);
    if (layer.kNorm) out.push(layer.kNorm);
    out.push(layer.postNorm);
  }
  out.push(m.norm);
  if (m.lmHead !== m.embed) out.push(m.lmHead);
  return out;
}

export function listLoraParams(m: LlamaModel): Param[] {
  const out: Param[] = [];
  for (const layer of m.layers) {
    for (const n of LINEAR_NAMES) {
      const lora = layer.linears[n].lora;
      if (lora) out.push(lora.a, lora.b);
    }
  }
  return out;
}

/**
 * Random init as HF's `_init_weights` does for Llama: normal(0, initializerRange) for linears and
 * embeddings, ones for norms, zeros for biases.
 */
export function initializeModel(m: LlamaModel, seed: number, initializerRange = 0.02): void {
  const rng = Rng.fromSeed(seed, 1);
  for (const p of listBaseParams(m)) {
    if (p.name.endsWith("norm.weight")) p.data.fill(1);
    else if (p.name.endsWith(".bias")) p.data.fill(0);
    else for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * initializerRange;
  }
}

/**
 * The float32 weights that products multiply by as Bᵀ (linears, LoRA factors, the LM head), for
 * keeping them in wasm memory while they cannot change; `frozenOnly` keeps those without a
 * gradient (a training loop's base).
 */
export function packableWeights(model: LlamaModel, frozenOnly: boolean): PackableWeight[] {
  if (model.dtype !== "f32") return [];
  const out: PackableWeight[] = [];
  const add = (p: Param, rows: number, cols: number) => {
    if (p.data instanceof Float32Array && (!frozenOnly || p.grad === null))
      out.push({ data: p.data, rows, cols });
  };
  for (const layer of model.layers) {
    for (const lin of Object.values(layer.linears)) {
      add(lin.weight, lin.outFeatures, lin.inFeatures);
      if (lin.lora) {
        add(lin.lora.a, lin.lora.r, lin.inFeatures);
        add(lin.lora.b, lin.outFeatures, lin.lora.r);
      }
    }
  }
  add(model.lmHead, model.config.vocabSize, model.config.hiddenSize);
  return out;
}
