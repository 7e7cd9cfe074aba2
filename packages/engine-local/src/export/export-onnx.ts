import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { EngineError } from "../engine-error.ts";
import { loadModelDir } from "../io/hf-model-dir.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import { buildLlamaGraph } from "./onnx-graph.ts";
import { encodeModel, ONNX_FLOAT, ONNX_INT64 } from "./onnx-proto.ts";

export const ONNX_OPSET = 17;

/** Serializes a model without adapters (merge first) to ONNX bytes. */
export function serializeOnnx(model: LlamaModel): Uint8Array {
  if (model.layers.some((l) => Object.values(l.linears).some((lin) => lin.lora))) {
    throw new EngineError("export_invalid", "merge the LoRA adapter before exporting to ONNX");
  }
  const g = buildLlamaGraph(model);
  return encodeModel({
    name: "llama",
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: "input_ids", elemType: ONNX_INT64, shape: ["batch", "sequence"] }],
    outputs: [{ name: "logits", elemType: ONNX_FLOAT, shape: ["batch", "sequence", model.config.vocabSize] }],
    opset: ONNX_OPSET,
  });
}

/** Exports an HF model dir (a merged one) to an .onnx file: input_ids → logits. */
export async function exportOnnx(
  modelDir: string,
  outFile: string,
): Promise<{ path: string; bytes: number }> {
  const bytes = serializeOnnx(loadModelDir(modelDir));
  if (bytes.length > 2 ** 31 - 1)
    throw new EngineError("export_invalid", "model exceeds protobuf's 2 GiB limit for a single ONNX file");
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, bytes);
  return { path: outFile, bytes: bytes.length };
}
