import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { saveModelDir } from "../io/hf-model-dir.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { mergeLora } from "../model/lora.ts";
import { prepareModelForRun } from "./prepare-model.ts";

/**
 * A training checkpoint as a plain HF model folder, for serving: the base prepared exactly as the
 * run prepared it (added special tokens, LoRA attached), the checkpoint's trainable tensors loaded
 * by name, LoRA merged, saved with the run's grown tokenizer. Written beside and renamed, once.
 */
export function writeCheckpointModel(
  baseDir: string,
  config: RunConfig,
  checkpointDir: string,
  outDir: string,
): string {
  if (existsSync(join(outDir, "config.json"))) return outDir;
  const prepared = prepareModelForRun(baseDir, config);
  const file = join(checkpointDir, "trainable.safetensors");
  const tensors = readSafetensors(file);
  for (const p of prepared.trainable) {
    const t = tensors.get(p.name);
    if (!t)
      throw new EngineError("model_invalid", `${file} has no tensor ${p.name} (not this run's checkpoint?)`);
    if (t.data.length !== p.data.length)
      throw new EngineError(
        "model_invalid",
        `${file}: ${p.name} has ${t.data.length} values, the model ${p.data.length}`,
      );
    p.data.set(t.data);
  }
  if (prepared.loraSpec) mergeLora(prepared.model);
  const temp = `${outDir}.${process.pid}.partial`;
  rmSync(temp, { recursive: true, force: true });
  saveModelDir(prepared.model, temp, { tokenizer: prepared.tokenizer });
  renameSync(temp, outDir);
  return outDir;
}
