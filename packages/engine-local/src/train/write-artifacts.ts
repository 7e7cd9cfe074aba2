import { statSync } from "node:fs";
import { join } from "node:path";
import type { EngineEventBody, EngineJob } from "@distillery/core";
import { writeOnnxFile } from "../export/export-onnx.ts";
import { saveModelDir } from "../io/hf-model-dir.ts";
import { saveAdapterDir } from "../io/peft-adapter.ts";
import { mergeLora } from "../model/lora.ts";
import { saveTokenizer } from "../tokenizer/engine-tokenizer.ts";
import type { PreparedModel } from "./prepare-model.ts";

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** ONNX of the final plain model (weights in model.onnx_data beside it when over 1.5 GiB). */
function writeOnnx(prepared: PreparedModel, out: string, emit: (e: EngineEventBody) => void): void {
  emit({ type: "status", phase: "exporting" });
  const { path, bytes } = writeOnnxFile(prepared.model, join(out, "model.onnx"));
  emit({ type: "artifact", kind: "onnx", path, bytes });
}

/**
 * The end of a run: a PEFT adapter (LoRA) or a full model dir (full fine-tune), then the merged
 * model when the config asks for merge_and_unload, and ONNX of the plain model. Each is announced with an artifact event.
 */
export function writeRunArtifacts(
  job: EngineJob,
  prepared: PreparedModel,
  emit: (e: EngineEventBody) => void,
): void {
  const { model, tokenizer, loraSpec } = prepared;
  const out = job.paths.outDir;
  if (loraSpec) {
    const dir = join(out, "adapter");
    const grown = prepared.addedTokens.length > 0;
    // the rows that trained: from the first added token's id to the end (checkpoints whose
    // vocab_size is padded past the tokenizer train those padding rows too)
    const firstRow = model.embed.trainFromRow;
    saveAdapterDir(model, dir, {
      spec: loraSpec,
      baseModel: job.paths.baseModelNameOrPath ?? job.paths.baseModel,
      modulesToSave: [],
      trainableTokenIndices: grown
        ? Array.from({ length: model.config.vocabSize - firstRow }, (_, i) => firstRow + i)
        : [],
    });
    saveTokenizer(tokenizer, dir);
    emit({
      type: "artifact",
      kind: "adapter",
      path: dir,
      bytes: sizeOf(join(dir, "adapter_model.safetensors")),
    });
    if (job.config.merge.mergeAndUnload) {
      emit({ type: "status", phase: "merging" });
      mergeLora(model);
      const merged = join(out, "merged");
      saveModelDir(model, merged, { tokenizer });
      emit({
        type: "artifact",
        kind: "merged",
        path: merged,
        bytes: sizeOf(join(merged, "model.safetensors")),
      });
      writeOnnx(prepared, out, emit);
    }
  } else {
    const dir = join(out, "model");
    saveModelDir(model, dir, { tokenizer });
    emit({ type: "artifact", kind: "model", path: dir, bytes: sizeOf(join(dir, "model.safetensors")) });
    writeOnnx(prepared, out, emit);
  }
}
