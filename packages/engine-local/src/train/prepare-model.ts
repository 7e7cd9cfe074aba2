import type { RunConfig } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { loadModelDir } from "../io/hf-model-dir.ts";
import { type LlamaModel, listBaseParams, listLoraParams } from "../model/llama-model.ts";
import { attachLora, type LoraSpec, validateTargetModules } from "../model/lora.ts";
import type { Param } from "../model/param.ts";
import { setTrainable } from "../model/param.ts";
import { resizeVocab } from "../model/resize-vocab.ts";
import { addSpecialTokens, type EngineTokenizer, loadTokenizer } from "../tokenizer/engine-tokenizer.ts";

export interface PreparedModel {
  model: LlamaModel;
  tokenizer: EngineTokenizer;
  trainable: Param[];
  loraSpec: LoraSpec | null;
  /** vocabulary size of the base model before special tokens were added */
  baseVocab: number;
  addedTokens: string[];
}

export function toLoraSpec(config: RunConfig): LoraSpec {
  return {
    r: config.lora.r,
    alpha: config.lora.alpha,
    dropout: config.lora.dropout,
    targetModules: config.lora.targetModules,
    useRslora: config.lora.useRslora,
  };
}

/**
 * Loads the base model and tokenizer, adds the run's special tokens (growing embeddings and LM
 * head), and marks what trains: everything for "full"; LoRA pairs plus the new token rows for
 * "lora". Deterministic in (base, config), so a resumed run rebuilds the identical model before
 * loading its checkpoint over it.
 */
export function prepareModelForRun(baseDir: string, config: RunConfig): PreparedModel {
  if (config.lora.useDora)
    throw new EngineError("config_invalid", "DoRA is not supported by the CPU engine", {
      field: "lora.useDora",
    });
  if (config.lora.bias !== "none")
    throw new EngineError("config_invalid", 'the CPU engine supports lora.bias "none" only', {
      field: "lora.bias",
    });
  if (config.lora.method === "lora") validateTargetModules(config.lora.targetModules);
  const model = loadModelDir(baseDir);
  const base = loadTokenizer(baseDir);
  if (base.vocabSize > model.config.vocabSize) {
    throw new EngineError(
      "model_invalid",
      `tokenizer has ${base.vocabSize} ids but config.json vocab_size is ${model.config.vocabSize}`,
      {
        field: "model.id",
      },
    );
  }
  const { tokenizer, added } = addSpecialTokens(base, config.specialTokens);
  const baseVocab = model.config.vocabSize;
  resizeVocab(model, Math.max(baseVocab, tokenizer.vocabSize));
  // new tokens take ids from the tokenizer's size up; checkpoints whose vocab_size is padded past
  // the tokenizer (Qwen2.5) already have rows there, and those rows must train too
  const firstNewRow = added.length ? base.vocabSize : model.config.vocabSize;
  const trainable: Param[] = [];
  let loraSpec: LoraSpec | null = null;
  if (config.lora.method === "full") {
    for (const p of listBaseParams(model)) {
      setTrainable(p, true);
      trainable.push(p);
    }
  } else {
    loraSpec = toLoraSpec(config);
    attachLora(model, loraSpec, config.training.seed);
    trainable.push(...listLoraParams(model));
    if (added.length) {
      setTrainable(model.embed, true, firstNewRow);
      trainable.push(model.embed);
      if (model.lmHead !== model.embed) {
        setTrainable(model.lmHead, true, firstNewRow);
        trainable.push(model.lmHead);
      }
    }
  }
  return { model, tokenizer, trainable, loraSpec, baseVocab, addedTokens: added };
}
