import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { forwardTrain } from "../model/llama-forward.ts";
import { collectEvents, createFixtureModel, makeJob, makeTempDir } from "../test-fixtures.ts";
import { loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { runTorchScript, torchMissing } from "../torch-python.ts";
import { runTraining } from "../train/run-training.ts";
import { loadModelDir } from "./hf-model-dir.ts";
import { loadAdapterDir, saveAdapterDir } from "./peft-adapter.ts";
import { readSafetensors } from "./safetensors.ts";

/**
 * A LoRA run that adds special tokens (<think>, </think>) must leave an adapter that gives the
 * merged model's logits when applied as PEFT applies it — on tied embeddings too, where the LM
 * head must see the trained rows of the new tokens.
 */
async function trainWithNewTokens(tie: boolean) {
  const base = createFixtureModel({ tie, hiddenSize: 32 });
  const job = makeJob(base, {
    lora: { method: "lora", r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"] },
    training: {
      maxSteps: 6,
      perDeviceBatchSize: 8,
      gradientAccumulationSteps: 1,
      learningRate: 2e-2,
      evalStrategy: "no",
      saveStrategy: "no",
    },
    merge: { mergeAndUnload: true },
  });
  await runTraining(job, { emit: collectEvents().emit });
  const out = job.paths.outDir;
  const baseVocab = loadTokenizer(base).vocabSize;
  return { base, adapter: join(out, "adapter"), merged: join(out, "merged"), baseVocab };
}

function idsWithNewTokens(baseVocab: number): number[][] {
  // <think> = baseVocab, </think> = baseVocab + 1, between ordinary tokens
  return [
    [5, baseVocab, 17, 40, baseVocab + 1, 9, baseVocab],
    [baseVocab + 1, 33, 2, baseVocab, 71, 12, 3],
  ];
}

function torchLogits(modelDir: string, ids: number[][], adapterDir?: string): Float32Array {
  const work = makeTempDir("peft");
  writeFileSync(join(work, "ids.json"), JSON.stringify(ids));
  const out = join(work, "logits.f32");
  runTorchScript(["logits", modelDir, join(work, "ids.json"), out, ...(adapterDir ? [adapterDir] : [])]);
  const buf = readFileSync(out);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe("adapters with added special tokens (PEFT trainable_token_indices)", () => {
  for (const tie of [true, false]) {
    it(`saves the new rows as trainable_token_indices and reloads to the merged logits (tied=${tie})`, async () => {
      const { base, adapter, merged, baseVocab } = await trainWithNewTokens(tie);
      const cfg = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
      const ids = [baseVocab, baseVocab + 1];
      expect(cfg.modules_to_save).toBeNull();
      expect(cfg.trainable_token_indices).toEqual(
        tie ? { embed_tokens: ids } : { embed_tokens: ids, lm_head: ids },
      );
      const tensors = readSafetensors(join(adapter, "adapter_model.safetensors"));
      const embedRows = tensors.get(
        "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta",
      );
      expect(embedRows?.shape).toEqual([2, 32]);
      expect(tensors.has("base_model.model.lm_head.token_adapter.trainable_tokens_delta")).toBe(!tie);
      expect(tensors.has("base_model.model.model.embed_tokens.weight")).toBe(false);

      // the engine, loading base + adapter afresh, against the merged folder
      const rows = idsWithNewTokens(baseVocab);
      const flat = Int32Array.from(rows.flat());
      const viaAdapter = loadModelDir(base);
      loadAdapterDir(viaAdapter, adapter);
      const mergedModel = loadModelDir(merged);
      expect(viaAdapter.config.vocabSize).toBe(mergedModel.config.vocabSize);
      const a = forwardTrain(viaAdapter, flat, 2, 7, null).logits;
      const m = forwardTrain(mergedModel, flat, 2, 7, null).logits;
      expect(worstDiff(a, m)).toBeLessThan(1e-4);
    });
  }

  describe.skipIf(torchMissing !== null)("applied independently, as PEFT applies it (PyTorch)", () => {
    for (const tie of [true, false]) {
      it(`base + adapter gives the merged model's logits on the new tokens (tied=${tie})`, async () => {
        const { base, adapter, merged, baseVocab } = await trainWithNewTokens(tie);
        const rows = idsWithNewTokens(baseVocab);
        const fromMerged = torchLogits(merged, rows);
        const fromAdapter = torchLogits(base, rows, adapter);
        let scale = 0;
        for (const x of fromMerged) scale = Math.max(scale, Math.abs(x));
        expect(scale).toBeGreaterThan(0.01);
        expect(worstDiff(fromAdapter, fromMerged)).toBeLessThan(1e-5 + 1e-4 * scale);
        // and the new tokens' own logit columns did train (they differ from the base's mean row)
        const V = baseVocab + 2;
        const newColumn = Array.from({ length: 14 }, (_, r) => fromMerged[r * V + baseVocab] as number);
        expect(new Set(newColumn.map((x) => x.toFixed(4))).size).toBeGreaterThan(1);
      });
    }

    it("the former layout (whole embed_tokens in modules_to_save, tied head) does not: the head misses the new rows", async () => {
      const { base, adapter, merged, baseVocab } = await trainWithNewTokens(true);
      // the same trained weights, saved as the engine saved them before
      const model = loadModelDir(base);
      const meta = loadAdapterDir(model, adapter);
      const legacy = makeTempDir("legacy");
      saveAdapterDir(model, legacy, { ...meta, modulesToSave: ["embed_tokens"], trainableTokenIndices: [] });
      const rows = idsWithNewTokens(baseVocab);
      const fromMerged = torchLogits(merged, rows);
      expect(worstDiff(torchLogits(base, rows, legacy), fromMerged)).toBeGreaterThan(1e-2);
    });
  });
});
