import { allocArray } from "../kernels/float-array.ts";
import type { LlamaModel } from "./llama-model.ts";
import type { Param } from "./param.ts";

function growRows(p: Param, oldRows: number, newRows: number, d: number): void {
  const data = allocArray(p.data instanceof Float64Array ? "f64" : "f32", newRows * d);
  data.set(p.data.subarray(0, oldRows * d));
  // new rows start at the mean of the old ones (transformers' mean_resizing), so a new token's
  // logit starts near the average instead of dominating or vanishing
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < oldRows; i++) mean += p.data[i * d + j] as number;
    mean /= Math.max(1, oldRows);
    for (let i = oldRows; i < newRows; i++) data[i * d + j] = mean;
  }
  p.data = data;
  p.shape = [newRows, d];
  p.grad = null;
}

/** Grows the embedding and LM head to `newVocab` rows (resize_token_embeddings). */
export function resizeVocab(model: LlamaModel, newVocab: number): void {
  const old = model.config.vocabSize;
  if (newVocab <= old) return;
  const d = model.config.hiddenSize;
  growRows(model.embed, old, newVocab, d);
  if (model.lmHead !== model.embed) growRows(model.lmHead, old, newVocab, d);
  model.config = { ...model.config, vocabSize: newVocab };
}
