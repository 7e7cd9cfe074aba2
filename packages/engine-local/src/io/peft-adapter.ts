import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../engine-error.ts";
import { LINEAR_NAMES, type LlamaModel } from "../model/llama-model.ts";
import { attachLora, type LoraSpec } from "../model/lora.ts";
import { resizeVocab } from "../model/resize-vocab.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

/**
 * PEFT's on-disk adapter: adapter_config.json and adapter_model.safetensors with keys
 * `base_model.model.<HF name>` and no adapter name (`….q_proj.lora_A.weight`).
 *
 * Rows of added special tokens travel as PEFT ≥ 0.15's `trainable_token_indices`: the rows
 * themselves (`….embed_tokens.token_adapter.trainable_tokens_delta`, [n, d], the new values,
 * not a difference), which PEFT writes over the (resized) base's rows with index_copy. With tied
 * embeddings only `embed_tokens` is listed and PEFT ties the LM head's token adapter to it, so
 * the head sees the trained rows too; untied, `lm_head` is listed with its own rows. (Older
 * adapters with whole `modules_to_save` matrices still load.)
 */
const PREFIX = "base_model.model.";
const EMBED_ROWS = `${PREFIX}model.embed_tokens.token_adapter.trainable_tokens_delta`;
const HEAD_ROWS = `${PREFIX}lm_head.token_adapter.trainable_tokens_delta`;

export interface AdapterMeta {
  spec: LoraSpec;
  /** adapter_config.json's base_model_name_or_path: what `from_pretrained` loads */
  baseModel: string;
  /** whole modules saved (legacy adapters; the engine writes trainableTokenIndices instead) */
  modulesToSave: string[];
  /** ids of the embedding (and untied LM head) rows that trained: added special tokens */
  trainableTokenIndices?: number[];
}

function rowsOf(data: ArrayLike<number>, d: number, ids: number[]): Float32Array {
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = data[id * d + j] as number;
  });
  return out;
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
  const ids = meta.trainableTokenIndices ?? [];
  const tied = model.lmHead === model.embed;
  const d = model.config.hiddenSize;
  if (ids.length) {
    tensors.push([EMBED_ROWS, { shape: [ids.length, d], data: rowsOf(model.embed.data, d, ids) }]);
    if (!tied) tensors.push([HEAD_ROWS, { shape: [ids.length, d], data: rowsOf(model.lmHead.data, d, ids) }]);
  }
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
    trainable_token_indices: ids.length
      ? tied
        ? { embed_tokens: ids }
        : { embed_tokens: ids, lm_head: ids }
      : null,
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
  const tokenIndices = parseTokenIndices(cfg.trainable_token_indices, cfgPath);
  const wherePath = join(dir, "adapter_model.safetensors");
  const tensors = readSafetensors(wherePath);
  const embed = tensors.get(PREFIX + model.embed.name);
  if (embed && embed.shape[0]! > model.config.vocabSize) resizeVocab(model, embed.shape[0]!);
  // as a PEFT user resizes the base to the tokenizer before loading: the listed rows must exist
  const maxIndex = Object.values(tokenIndices)
    .flat()
    .reduce((m, id) => Math.max(m, id), -1);
  if (maxIndex >= model.config.vocabSize) resizeVocab(model, maxIndex + 1);
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
  const d = model.config.hiddenSize;
  const writeRows = (key: string, ids: number[], target: { data: { [i: number]: number } }) => {
    const t = tensors.get(key);
    if (!t) throw new EngineError("adapter_invalid", `${wherePath}: tensor ${key} is missing`);
    if (t.shape[0] !== ids.length || t.shape[1] !== d) {
      throw new EngineError(
        "adapter_invalid",
        `${wherePath}: tensor ${key} has shape ${JSON.stringify(t.shape)}, expected [${ids.length}, ${d}] (trainable_token_indices in ${cfgPath})`,
      );
    }
    ids.forEach((id, i) => {
      for (let j = 0; j < d; j++) target.data[id * d + j] = t.data[i * d + j] as number;
    });
    tensors.delete(key);
  };
  for (const [module, ids] of Object.entries(tokenIndices)) {
    if (module === "embed_tokens") {
      // tied: PEFT ties the LM head's token adapter to this one, and here they are one Param
      writeRows(EMBED_ROWS, ids, model.embed);
    } else if (module === "lm_head") {
      if (model.lmHead === model.embed)
        throw new EngineError("adapter_invalid", `${cfgPath}: lm_head rows on a model with tied embeddings`);
      writeRows(HEAD_ROWS, ids, model.lmHead);
    }
  }
  for (const name of tensors.keys()) {
    if (name === PREFIX + "lm_head.weight") continue;
    throw new EngineError("adapter_invalid", `${wherePath}: unexpected tensor ${name}`);
  }
  const ids = tokenIndices.embed_tokens ?? tokenIndices.lm_head;
  return {
    spec,
    baseModel: String(cfg.base_model_name_or_path ?? ""),
    modulesToSave,
    ...(ids ? { trainableTokenIndices: ids } : {}),
  };
}

/**
 * trainable_token_indices as PEFT reads it: a list (the input embedding's rows) or a dict from
 * module name to rows; names are matched by their last part (`model.embed_tokens` → embed_tokens).
 */
function parseTokenIndices(raw: unknown, where: string): Record<string, number[]> {
  if (raw == null) return {};
  const isIds = (v: unknown): v is number[] =>
    Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (isIds(raw)) return { embed_tokens: raw };
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new EngineError("adapter_invalid", `${where}: trainable_token_indices must be a list or an object`);
  const out: Record<string, number[]> = {};
  for (const [name, ids] of Object.entries(raw)) {
    const short = name.split(".").at(-1) ?? name;
    if (short !== "embed_tokens" && short !== "lm_head")
      throw new EngineError(
        "adapter_invalid",
        `${where}: trainable_token_indices.${name}: only embed_tokens and lm_head are supported`,
      );
    if (!isIds(ids))
      throw new EngineError(
        "adapter_invalid",
        `${where}: trainable_token_indices.${name} must be a list of token ids`,
      );
    out[short] = ids;
  }
  return out;
}
