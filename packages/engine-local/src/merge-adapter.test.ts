import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModelDir, saveModelDir } from "./io/hf-model-dir.ts";
import { loadAdapterDir, saveAdapterDir } from "./io/peft-adapter.ts";
import { Rng } from "./kernels/rng.ts";
import { mergeAdapter } from "./merge-adapter.ts";
import { forwardTrain } from "./model/llama-forward.ts";
import { listBaseParams, listLoraParams } from "./model/llama-model.ts";
import { attachLora } from "./model/lora.ts";
import { resizeVocab } from "./model/resize-vocab.ts";
import { createFixtureModel, makeTempDir } from "./test-fixtures.ts";

describe("save/load round trips and merge_and_unload", () => {
  it("model dir round-trips bit for bit", () => {
    const dir = createFixtureModel({ tie: false });
    const a = loadModelDir(dir);
    const out = makeTempDir("rt");
    saveModelDir(a, out);
    const b = loadModelDir(out);
    const pb = listBaseParams(b);
    listBaseParams(a).forEach((p, i) => {
      expect(Array.from(pb[i]?.data ?? [])).toEqual(Array.from(p.data));
    });
  });

  it("merged logits equal base + adapter logits, after an adapter save/load", () => {
    const baseDir = createFixtureModel({ tie: false });
    const model = loadModelDir(baseDir);
    resizeVocab(model, model.config.vocabSize + 2);
    attachLora(
      model,
      {
        r: 4,
        alpha: 8,
        dropout: 0,
        targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        useRslora: true,
      },
      1,
    );
    const rng = Rng.fromSeed(4);
    for (const p of listLoraParams(model))
      for (let i = 0; i < p.data.length; i++) p.data[i] = 0.1 * rng.normal();
    for (let i = 0; i < model.embed.data.length; i++)
      model.embed.data[i] = (model.embed.data[i] as number) + 0.01 * rng.normal();
    const adapterDir = makeTempDir("adapter");
    saveAdapterDir(model, adapterDir, {
      spec: {
        r: 4,
        alpha: 8,
        dropout: 0,
        targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        useRslora: true,
      },
      baseModel: "tiny",
      modulesToSave: ["embed_tokens", "lm_head"],
    });

    const ids = Int32Array.from({ length: 12 }, (_, i) => (i * 37) % model.config.vocabSize);
    const expected = forwardTrain(model, ids, 2, 6, null).logits;

    const reloaded = loadModelDir(baseDir);
    loadAdapterDir(reloaded, adapterDir);
    const viaAdapter = forwardTrain(reloaded, ids, 2, 6, null).logits;
    for (let i = 0; i < expected.length; i++) expect(viaAdapter[i]).toBe(expected[i]);

    const mergedDir = join(makeTempDir("merged"), "m");
    // merge needs a tokenizer: the adapter dir has none here, so the base's is used
    mergeAdapter(baseDir, adapterDir, mergedDir);
    const merged = loadModelDir(mergedDir);
    expect(merged.config.vocabSize).toBe(model.config.vocabSize);
    const mergedLogits = forwardTrain(merged, ids, 2, 6, null).logits;
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((mergedLogits[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThan(1e-4);
  });
});
