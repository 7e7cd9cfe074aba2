import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { loadModelDir } from "../io/hf-model-dir.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { createFixtureModel, makeTempDir } from "../test-fixtures.ts";
import { exportOnnx } from "./export-onnx.ts";

describe("ONNX export", () => {
  for (const tie of [true, false]) {
    it(`onnxruntime-node logits match the engine's (tied=${tie}, GQA, dynamic batch and sequence)`, async () => {
      const dir = createFixtureModel({ tie, numKvHeads: 2 });
      const file = join(makeTempDir("onnx"), "model.onnx");
      await exportOnnx(dir, file);
      const session = await ort.InferenceSession.create(file);
      const model = loadModelDir(dir);
      for (const [B, T] of [
        [2, 7],
        [1, 3],
      ] as const) {
        const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 31 + 7) % model.config.vocabSize);
        const expected = forwardTrain(model, ids, B, T, null).logits;
        const out = await session.run({
          input_ids: new ort.Tensor("int64", BigInt64Array.from(Array.from(ids, BigInt)), [B, T]),
        });
        const logits = out.logits!;
        expect(logits.dims).toEqual([B, T, model.config.vocabSize]);
        const data = logits.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < expected.length; i++)
          worst = Math.max(worst, Math.abs((data[i] as number) - (expected[i] as number)));
        expect(worst).toBeLessThan(1e-4);
      }
    });
  }
});
