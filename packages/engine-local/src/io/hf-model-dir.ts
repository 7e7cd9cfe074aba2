import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../engine-error.ts";
import type { DType } from "../kernels/float-array.ts";
import { allocateModel, type LlamaModel, listBaseParams } from "../model/llama-model.ts";
import { parseModelConfig, serializeModelConfig } from "../model/model-config.ts";
import { type EngineTokenizer, saveTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { type NamedTensor, readSafetensors, writeSafetensors } from "./safetensors.ts";

/**
 * Reads and writes a Hugging Face model directory: config.json, model.safetensors (or the
 * sharded model.safetensors.index.json form), generation_config.json. Tensor names are HF's;
 * a missing tensor, a wrong shape or an unexpected name stops the load with the name and file.
 */
export function readModelConfigFile(dir: string) {
  const path = join(dir, "config.json");
  if (!existsSync(path))
    throw new EngineError("model_invalid", `${path} does not exist`, { field: "model.id" });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new EngineError("model_invalid", `${path} is not valid JSON: ${(e as Error).message}`, {
      field: "model.id",
    });
  }
  return parseModelConfig(raw, path);
}

function readWeights(dir: string): { tensors: Map<string, NamedTensor>; where: string } {
  const single = join(dir, "model.safetensors");
  if (existsSync(single)) return { tensors: readSafetensors(single), where: single };
  const index = join(dir, "model.safetensors.index.json");
  if (!existsSync(index))
    throw new EngineError(
      "model_invalid",
      `${dir} has neither model.safetensors nor model.safetensors.index.json`,
    );
  const map =
    (JSON.parse(readFileSync(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map ?? {};
  const tensors = new Map<string, NamedTensor>();
  for (const file of new Set(Object.values(map)))
    for (const [k, v] of readSafetensors(join(dir, file))) tensors.set(k, v);
  return { tensors, where: index };
}

export function loadModelDir(dir: string, dtype: DType = "f32"): LlamaModel {
  const config = readModelConfigFile(dir);
  const model = allocateModel(config, dtype);
  const { tensors, where } = readWeights(dir);
  const expected = new Set<string>();
  for (const p of listBaseParams(model)) {
    expected.add(p.name);
    const t = tensors.get(p.name);
    if (!t) throw new EngineError("model_invalid", `${where}: tensor ${p.name} is missing`);
    if (t.shape.length !== p.shape.length || t.shape.some((s, i) => s !== p.shape[i])) {
      throw new EngineError(
        "model_invalid",
        `${where}: tensor ${p.name} has shape ${JSON.stringify(t.shape)}, config.json implies ${JSON.stringify(p.shape)}`,
      );
    }
    p.data.set(t.data);
  }
  for (const name of tensors.keys()) {
    // a tied checkpoint may still carry lm_head.weight; rotary caches are buffers, not weights
    if (expected.has(name) || name === "lm_head.weight" || name.endsWith("rotary_emb.inv_freq")) continue;
    throw new EngineError(
      "model_invalid",
      `${where}: unexpected tensor ${name} (not part of a ${config.modelType} model)`,
    );
  }
  return model;
}

export interface SaveModelOptions {
  tokenizer?: EngineTokenizer;
  generationConfig?: Record<string, unknown>;
}

export function saveModelDir(model: LlamaModel, dir: string, opts: SaveModelOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(serializeModelConfig(model.config), null, 2));
  writeSafetensors(
    join(dir, "model.safetensors"),
    listBaseParams(model)
      .map((p) => [p.name, { shape: p.shape, data: p.data }] as const)
      .map(([n, t]) => [n, t]),
  );
  const c = model.config;
  const gen = opts.generationConfig ?? {
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId,
    do_sample: true,
    temperature: 0.7,
    top_p: 0.95,
  };
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify(gen, null, 2));
  if (opts.tokenizer) saveTokenizer(opts.tokenizer, dir);
}
