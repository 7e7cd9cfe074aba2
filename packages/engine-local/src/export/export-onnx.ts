import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { EngineError } from "../engine-error.ts";
import { loadModelDir } from "../io/hf-model-dir.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import {
  buildLlamaGraph,
  pastKeyName,
  pastValueName,
  presentKeyName,
  presentValueName,
} from "./onnx-graph.ts";
import {
  encodeModelParts,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxGraphSpec,
  type OnnxValueInfo,
} from "./onnx-proto.ts";

export const ONNX_OPSET = 17;
/** above this many bytes of weights the export puts them in `<file>_data` (protobuf's cap is 2 GiB) */
export const ONNX_INLINE_LIMIT = 1.5 * 2 ** 30;

function graphSpec(model: LlamaModel): OnnxGraphSpec {
  if (model.layers.some((l) => Object.values(l.linears).some((lin) => lin.lora))) {
    throw new EngineError("export_invalid", "merge the LoRA adapter before exporting to ONNX");
  }
  const c = model.config;
  const g = buildLlamaGraph(model);
  const kv = (name: string, seq: string): OnnxValueInfo => ({
    name,
    elemType: ONNX_FLOAT,
    shape: ["batch_size", c.numKvHeads, seq, c.headDim],
  });
  const inputs: OnnxValueInfo[] = [
    { name: "input_ids", elemType: ONNX_INT64, shape: ["batch_size", "sequence_length"] },
    { name: "attention_mask", elemType: ONNX_INT64, shape: ["batch_size", "total_sequence_length"] },
    { name: "position_ids", elemType: ONNX_INT64, shape: ["batch_size", "sequence_length"] },
  ];
  const outputs: OnnxValueInfo[] = [
    { name: "logits", elemType: ONNX_FLOAT, shape: ["batch_size", "sequence_length", c.vocabSize] },
  ];
  for (let l = 0; l < c.numLayers; l++) {
    inputs.push(kv(pastKeyName(l), "past_sequence_length"), kv(pastValueName(l), "past_sequence_length"));
    outputs.push(
      kv(presentKeyName(l), "total_sequence_length"),
      kv(presentValueName(l), "total_sequence_length"),
    );
  }
  return {
    name: c.modelType,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
    opset: ONNX_OPSET,
    metadata: {
      model_type: c.modelType,
      num_hidden_layers: String(c.numLayers),
      num_key_value_heads: String(c.numKvHeads),
      head_dim: String(c.headDim),
      vocab_size: String(c.vocabSize),
    },
  };
}

/** Serializes a model without adapters (merge first) to single-file ONNX bytes. */
export function serializeOnnx(model: LlamaModel): Uint8Array {
  const { model: bytes } = encodeModelParts(graphSpec(model));
  if (bytes.length > 2 ** 31 - 1)
    throw new EngineError("export_invalid", "model exceeds protobuf's 2 GiB limit for a single ONNX file");
  return bytes;
}

/**
 * Writes `outFile` (the optimum / transformers.js decoder layout, see buildLlamaGraph); models
 * with more than ONNX_INLINE_LIMIT bytes of weights keep them in `<outFile>_data` beside it
 * (model.onnx → model.onnx_data), which onnxruntime reads from the same folder.
 */
export function writeOnnxFile(
  model: LlamaModel,
  outFile: string,
  options: { externalData?: boolean } = {},
): { path: string; bytes: number } {
  const c = model.config;
  const weights =
    4 *
    (c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2) +
      c.numLayers *
        (c.hiddenSize * (c.numHeads + 2 * c.numKvHeads) * c.headDim +
          c.numHeads * c.headDim * c.hiddenSize +
          3 * c.hiddenSize * c.intermediateSize));
  const external = options.externalData ?? weights > ONNX_INLINE_LIMIT;
  const dataName = external ? `${basename(outFile)}_data` : undefined;
  const { model: bytes, data } = encodeModelParts(graphSpec(model), dataName);
  if (bytes.length > 2 ** 31 - 1)
    throw new EngineError("export_invalid", "model exceeds protobuf's 2 GiB limit for a single ONNX file");
  mkdirSync(dirname(outFile), { recursive: true });
  const write = (path: string, chunks: Uint8Array[]) => {
    const fd = openSync(path, "w");
    try {
      for (const chunk of chunks) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  };
  write(outFile, [bytes]);
  let total = bytes.length;
  if (dataName) {
    write(join(dirname(outFile), dataName), data);
    total += data.reduce((s, d) => s + d.length, 0);
  }
  return { path: outFile, bytes: total };
}

/** Exports an HF model dir (a merged one) to an .onnx file (see writeOnnxFile). */
export async function exportOnnx(
  modelDir: string,
  outFile: string,
): Promise<{ path: string; bytes: number }> {
  return writeOnnxFile(loadModelDir(modelDir), outFile);
}
