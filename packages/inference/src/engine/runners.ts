import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDecodeSession,
  createOrtSession,
  loadAdapterDir,
  loadModelDir,
  type OrtCausalLm,
  type OrtPast,
  writeOnnxFile,
} from "@distillery/engine-local";
import * as ort from "onnxruntime-node";

/**
 * What the batching loop drives: a fixed number of sequence slots, a prefill per new sequence,
 * and one batched decoding step for several slots. Two implementations: the engine's own
 * generation (weights packed in wasm memory) and onnxruntime-node on the model's ONNX export.
 */
export interface Runner {
  readonly name: "engine" | "ort";
  readonly slots: number;
  readonly capacity: number;
  readonly vocabSize: number;
  length(slot: number): number;
  reset(slot: number): void;
  prefill(slot: number, ids: number[]): Promise<Float32Array>;
  decode(slots: number[], tokens: number[]): Promise<Float32Array[]>;
}

export function createEngineRunner(options: {
  modelDir: string;
  adapterDir?: string;
  slots: number;
  capacity?: number;
}): Runner {
  const model = loadModelDir(options.modelDir);
  if (options.adapterDir) loadAdapterDir(model, options.adapterDir);
  const session = createDecodeSession(model, { slots: options.slots, capacity: options.capacity });
  return {
    name: "engine",
    slots: options.slots,
    capacity: session.capacity,
    vocabSize: model.config.vocabSize,
    length: (slot) => session.length(slot),
    reset: (slot) => session.reset(slot),
    prefill: async (slot, ids) => session.prefill(slot, ids),
    decode: async (slots, tokens) => session.decode(slots, tokens),
  };
}

function onnxFileOf(modelDir: string): string | null {
  for (const f of [join(modelDir, "onnx", "model.onnx"), join(modelDir, "model.onnx")])
    if (existsSync(f)) return f;
  return null;
}

/**
 * onnxruntime on the model's ONNX export (exported once into a temporary folder when the model
 * has none). Each slot keeps its own past; a decoding step lays the active slots' pasts out as
 * one left-padded batch (attention mask 0 on the padding, position ids = each slot's length),
 * runs one forward, and takes each slot's new past back without the padding.
 */
export async function createOrtRunner(options: {
  modelDir: string;
  slots: number;
  capacity?: number;
  threads?: number;
}): Promise<Runner> {
  const model = loadModelDir(options.modelDir);
  let file = onnxFileOf(options.modelDir);
  if (!file) {
    file = join(tmpdir(), `distillery-onnx-${process.pid}-${Date.now()}`, "model.onnx");
    writeOnnxFile(model, file);
  }
  const lm: OrtCausalLm = await createOrtSession(file, { intraOpNumThreads: options.threads });
  const capacity = Math.min(options.capacity ?? model.config.maxPositions, model.config.maxPositions);
  const pasts: (OrtPast | null)[] = Array.from({ length: options.slots }, () => null);
  const { numLayers, numKvHeads: kvh, headDim: hd } = lm;
  const vocab = lm.vocabSize;
  return {
    name: "ort",
    slots: options.slots,
    capacity,
    vocabSize: vocab,
    length: (slot) => pasts[slot]?.length ?? 0,
    reset(slot) {
      pasts[slot] = null;
    },
    async prefill(slot, ids) {
      // always from an empty past: a slot freed while its last step ran may still hold one
      const out = await lm.forward({ inputIds: [ids], past: lm.emptyPast(1) });
      pasts[slot] = out.present;
      return Float32Array.from(out.logitsAt(0, ids.length - 1));
    },
    async decode(slots, tokens) {
      const B = slots.length;
      const lens = slots.map((s) => pasts[s]?.length ?? 0);
      const L = Math.max(...lens);
      const layout = (pick: (p: OrtPast) => ort.Tensor[], l: number) => {
        const data = new Float32Array(B * kvh * L * hd);
        slots.forEach((s, r) => {
          const p = pasts[s];
          if (!p || p.length === 0) return;
          const src = pick(p)[l]?.data as Float32Array;
          const len = p.length;
          for (let h = 0; h < kvh; h++)
            data.set(src.subarray(h * len * hd, (h + 1) * len * hd), ((r * kvh + h) * L + (L - len)) * hd);
        });
        return new ort.Tensor("float32", data, [B, kvh, L, hd]);
      };
      const past: OrtPast = {
        keys: Array.from({ length: numLayers }, (_, l) => layout((p) => p.keys, l)),
        values: Array.from({ length: numLayers }, (_, l) => layout((p) => p.values, l)),
        batch: B,
        length: L,
      };
      const attentionMask = lens.map((len) => [...new Array(L - len).fill(0), ...new Array(len + 1).fill(1)]);
      const out = await lm.forward({
        inputIds: tokens.map((t) => [t]),
        attentionMask,
        positionIds: lens.map((len) => [len]),
        past,
      });
      const L1 = L + 1;
      const unpad = (t: ort.Tensor, r: number, len: number) => {
        const src = t.data as Float32Array;
        const data = new Float32Array(kvh * len * hd);
        for (let h = 0; h < kvh; h++)
          data.set(
            src.subarray(((r * kvh + h) * L1 + (L1 - len)) * hd, ((r * kvh + h) * L1 + L1) * hd),
            h * len * hd,
          );
        return new ort.Tensor("float32", data, [1, kvh, len, hd]);
      };
      slots.forEach((s, r) => {
        const len = (lens[r] as number) + 1;
        pasts[s] = {
          keys: out.present.keys.map((t) => unpad(t, r, len)),
          values: out.present.values.map((t) => unpad(t, r, len)),
          batch: 1,
          length: len,
        };
      });
      return slots.map((_, r) => Float32Array.from(out.logitsAt(r, 0)));
    },
  };
}
