import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../engine-error.ts";
import { LINEAR_NAMES, type LlamaModel } from "../model/llama-model.ts";
import { attachLora, type LoraSpec } from "../model/lora.ts";
import { resizeVocab } from "../model/resize-vocab.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

/**
 * PEFT's on-disk adapter: adapter_config.json and adapter_model.safetensors with keys
 * `base_model.model.<HF name>` and no adapter name (`….q_proj.lora_A.weight`). Grown
 * embeddings (added special tokens) travel as modules_to_save, whole, as PEFT stores them.
 */
const PREFIX = "base_model.model.";

export interface AdapterMeta {
  spec: LoraSpec;
  baseModel: string;
  modulesToSave: string[];
}

export function saveAdapterDir(model: LlamaModel, dir: string, meta: AdapterMeta): void {
  mkdirSync(dir, { recursive: true });
  const tensors: [string, { shape: number[]; data: ArrayLike<number> }][] = [];
  for (const layer of model.layers) {
    for (const n of LINEAR_NAMES) {
      const lora = layer.linears[n].lora;
      if (!lora) continue;
      tensors.push([PREFIX + lora.a.name, lora.a], [PREFIX + lora.b.name, lora.b]);
    }
  }
  if (meta.modulesToSave.includes("embed_tokens")) tensors.push([PREFIX + model.embed.name, model.embed]);
  if (meta.modulesToSave.includes("lm_head") && model.lmHead !== model.embed)
    tensors.push([PREFIX + model.lmHead.name, model.lmHead]);
  writeSafetensors(join(dir, "adapter_model.safetensors"), tensors);
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: meta.baseModel,
    r: meta.spec.r,
    lora_alpha: meta.spec.alpha,
    lora_dropout: meta.spec.dropout,
    target_modules: meta.spec.targetModules,
    bias: "none",
    use_rslora: meta.spec.useRslora,
    use_dora: false,
    fan_in_fan_out: false,
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: meta.modulesToSave.length ? meta.modulesToSave : null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
  };
  writeFileSync(join(dir, "adapter_config.json"), JSON.stringify(config, null, 2));
}

/** Loads a PEFT LoRA adapter onto `model` (resizing the vocabulary if the adapter grew it). */
export function loadAdapterDir(model: LlamaModel, dir: string): AdapterMeta {
  const cfgPath = join(dir, "adapter_config.json");
  if (!existsSync(cfgPath)) throw new EngineError("adapter_invalid", `${cfgPath} does not exist`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (e) {
    throw new EngineError("adapter_invalid", `${cfgPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (cfg.peft_type !== "LORA")
    throw new EngineError("adapter_invalid", `${cfgPath}: peft_type ${String(cfg.peft_type)} is not LORA`);
  if (cfg.use_dora) throw new EngineError("adapter_invalid", `${cfgPath}: DoRA adapters are not supported`);
  const targets = Array.isArray(cfg.target_modules) ? (cfg.target_modules as string[]) : [];
  const spec: LoraSpec = {
    r: Number(cfg.r),
    alpha: Number(cfg.lora_alpha),
    dropout: Number(cfg.lora_dropout ?? 0),
    targetModules: targets,
    useRslora: Boolean(cfg.use_rslora),
  };
  const modulesToSave = Array.isArray(cfg.modules_to_save) ? (cfg.modules_to_save as string[]) : [];
  const wherePath = join(dir, "adapter_model.safetensors");
  const tensors = readSafetensors(wherePath);
  const embed = tensors.get(PREFIX + model.embed.name);
  if (embed && embed.shape[0]! > model.config.vocabSize) resizeVocab(model, embed.shape[0]!);
  attachLora(model, spec, 0);
  const assign = (name: string, target: { shape: number[]; data: { set(a: ArrayLike<number>): void } }) => {
    const t = tensors.get(PREFIX + name);
    if (!t) throw new EngineError("adapter_invalid", `${wherePath}: tensor ${PREFIX + name} is missing`);
    if (t.shape.join(",") !== target.shape.join(",")) {
      throw new EngineError(
        "adapter_invalid",
        `${wherePath}: tensor ${PREFIX + name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(target.shape)}`,
      );
    }
    target.data.set(t.data);
    tensors.delete(PREFIX + name);
  };
  for (const layer of model.layers) {
    for (const n of LINEAR_NAMES) {
      const lora = layer.linears[n].lora;
      if (lora) {
        assign(lora.a.name, lora.a);
        assign(lora.b.name, lora.b);
      }
    }
  }
  if (embed) assign(model.embed.name, model.embed);
  if (model.lmHead !== model.embed && tensors.has(PREFIX + model.lmHead.name))
    assign(model.lmHead.name, model.lmHead);
  for (const name of tensors.keys()) {
    if (name === PREFIX + "lm_head.weight") continue;
    throw new EngineError("adapter_invalid", `${wherePath}: unexpected tensor ${name}`);
  }
  return { spec, baseModel: String(cfg.base_model_name_or_path ?? ""), modulesToSave };
}
