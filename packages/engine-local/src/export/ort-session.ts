import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { EngineError } from "../engine-error.ts";
import { pastKeyName, pastValueName, presentKeyName, presentValueName } from "./onnx-graph.ts";

/**
 * Runs an exported decoder (writeOnnxFile's layout, which is optimum's and transformers.js's) in
 * onnxruntime-node: left-padded batches and KV-cached decoding. The serving package drives it.
 *
 *   const lm = await createOrtSession(dir);                     // dir/onnx/model.onnx, dir/model.onnx or a .onnx file
 *   let out = await lm.forward({ inputIds, attentionMask });   // prefill: [batch][seq], mask [batch][seq]
 *   out = await lm.forward({ inputIds: next, attentionMask: [...mask + 1s], past: out.present });
 */
export interface OrtPast {
  /** per layer, [batch, kv_heads, length, head_dim] */
  keys: ort.Tensor[];
  values: ort.Tensor[];
  batch: number;
  length: number;
}

export interface OrtForwardInput {
  /** [batch][sequence], equal lengths: pad on the left (any id; the mask hides it) */
  inputIds: number[][];
  /** [batch][past + sequence]: 1 for real tokens, 0 for padding; default all ones */
  attentionMask?: number[][];
  /** [batch][sequence]; default as transformers: cumsum(mask) − 1, 1 at padding */
  positionIds?: number[][];
  /** the `present` of the previous call for the same rows; null or absent for the first */
  past?: OrtPast | null;
}

export interface OrtForwardOutput {
  /** [batch, sequence, vocab], row-major */
  logits: Float32Array;
  batch: number;
  sequence: number;
  vocabSize: number;
  /** the logits of row b at position t (a view) */
  logitsAt(b: number, t: number): Float32Array;
  /** pass as `past` to continue these rows */
  present: OrtPast;
}

export interface OrtCausalLm {
  path: string;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  forward(input: OrtForwardInput): Promise<OrtForwardOutput>;
  /** an empty cache (length 0) for `batch` rows */
  emptyPast(batch: number): OrtPast;
  release(): Promise<void>;
}

/** transformers' position ids for the last `sequence` columns of the mask. */
export function defaultPositionIds(attentionMask: number[][], sequence: number): number[][] {
  return attentionMask.map((row) => {
    let sum = 0;
    const pos = row.map((m) => {
      sum += m;
      return m === 0 ? 1 : sum - 1;
    });
    return pos.slice(pos.length - sequence);
  });
}

function resolveOnnxFile(pathOrDir: string): string {
  if (pathOrDir.endsWith(".onnx")) return pathOrDir;
  for (const candidate of [join(pathOrDir, "onnx", "model.onnx"), join(pathOrDir, "model.onnx")])
    if (existsSync(candidate)) return candidate;
  throw new EngineError("model_invalid", `${pathOrDir} has neither onnx/model.onnx nor model.onnx`);
}

const int64 = (rows: number[][], what: string): ort.Tensor => {
  const width = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== width))
    throw new EngineError("config_invalid", `${what}: every row must have the same length`);
  return new ort.Tensor(
    "int64",
    BigInt64Array.from(rows.flat(), (x) => BigInt(x)),
    [rows.length, width],
  );
};

export async function createOrtSession(
  pathOrDir: string,
  options: { intraOpNumThreads?: number } = {},
): Promise<OrtCausalLm> {
  const path = resolveOnnxFile(pathOrDir);
  if (!statSync(path).isFile()) throw new EngineError("model_invalid", `${path} is not a file`);
  const session = await ort.InferenceSession.create(path, {
    ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
  });
  const numLayers = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
  const meta = session.inputMetadata.find((m) => m.name === pastKeyName(0));
  const logitsMeta = session.outputMetadata.find((m) => m.name === "logits");
  let numKvHeads = meta?.isTensor ? Number(meta.shape[1]) : Number.NaN;
  let headDim = meta?.isTensor ? Number(meta.shape[3]) : Number.NaN;
  let vocabSize = logitsMeta?.isTensor ? Number(logitsMeta.shape[2]) : Number.NaN;
  if (![numKvHeads, headDim, vocabSize].every(Number.isInteger)) {
    // symbolic dims: the model folder's config.json says them
    const configPath = join(path, "..", "..", "config.json");
    const cfg = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
    numKvHeads = cfg.num_key_value_heads ?? cfg.num_attention_heads;
    headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
    vocabSize = cfg.vocab_size;
  }
  if (numLayers === 0 || ![numKvHeads, headDim, vocabSize].every(Number.isInteger))
    throw new EngineError("model_invalid", `${path} is not a decoder with past_key_values inputs`);

  const emptyPast = (batch: number): OrtPast => {
    const empty = () => new ort.Tensor("float32", new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    return {
      keys: Array.from({ length: numLayers }, empty),
      values: Array.from({ length: numLayers }, empty),
      batch,
      length: 0,
    };
  };

  return {
    path,
    numLayers,
    numKvHeads,
    headDim,
    vocabSize,
    emptyPast,
    async forward(input) {
      const batch = input.inputIds.length;
      const sequence = input.inputIds[0]?.length ?? 0;
      if (batch === 0 || sequence === 0) throw new EngineError("config_invalid", "inputIds is empty");
      const past = input.past ?? emptyPast(batch);
      if (past.batch !== batch)
        throw new EngineError("config_invalid", `past holds ${past.batch} rows, inputIds ${batch}`);
      const mask = input.attentionMask ?? input.inputIds.map(() => new Array(past.length + sequence).fill(1));
      if (mask.some((r) => r.length !== past.length + sequence)) {
        throw new EngineError(
          "config_invalid",
          `attentionMask rows must be past (${past.length}) + sequence (${sequence}) long`,
        );
      }
      const positions = input.positionIds ?? defaultPositionIds(mask, sequence);
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(input.inputIds, "inputIds"),
        attention_mask: int64(mask, "attentionMask"),
        position_ids: int64(positions, "positionIds"),
      };
      for (let l = 0; l < numLayers; l++) {
        feeds[pastKeyName(l)] = past.keys[l] as ort.Tensor;
        feeds[pastValueName(l)] = past.values[l] as ort.Tensor;
      }
      const out = await session.run(feeds);
      const logits = out.logits?.data as Float32Array;
      const present: OrtPast = {
        keys: Array.from({ length: numLayers }, (_, l) => out[presentKeyName(l)] as ort.Tensor),
        values: Array.from({ length: numLayers }, (_, l) => out[presentValueName(l)] as ort.Tensor),
        batch,
        length: past.length + sequence,
      };
      return {
        logits,
        batch,
        sequence,
        vocabSize,
        logitsAt: (b, t) =>
          logits.subarray((b * sequence + t) * vocabSize, (b * sequence + t + 1) * vocabSize),
        present,
      };
    },
    release: () => session.release(),
  };
}
