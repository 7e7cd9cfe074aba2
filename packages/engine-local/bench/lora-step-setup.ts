import { Rng } from "../src/kernels/rng.ts";
import { allocateModel, initializeModel, listLoraParams } from "../src/model/llama-model.ts";
import { attachLora } from "../src/model/lora.ts";
import type { makeTinyConfig } from "../src/model/test-helpers.ts";
import { createAdamWState } from "../src/train/adamw.ts";

/**
 * What bench:engine and the student bench time: a random-weight model with LoRA on q/k/v/o
 * (lora_B non-zero, so the adapter's gradients are real), AdamW state, and one random batch.
 */
export function setupLoraStep(
  config: ReturnType<typeof makeTinyConfig>,
  s: { r: number; alpha: number; batch: number; seq: number; vocab: number },
) {
  const model = allocateModel(config);
  initializeModel(model, 0, 0.02);
  attachLora(
    model,
    {
      r: s.r,
      alpha: s.alpha,
      dropout: 0,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      useRslora: false,
    },
    0,
  );
  const params = listLoraParams(model);
  const rng = Rng.fromSeed(1);
  for (const p of params)
    if (p.name.includes("lora_B")) for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * 1e-3;
  const opt = createAdamWState(params);
  const rows = s.batch * s.seq;
  const ids = Int32Array.from({ length: rows }, () => rng.int(s.vocab));
  const targets = Int32Array.from({ length: rows }, () => rng.int(s.vocab));
  return { model, params, opt, rng, rows, ids, targets };
}
