import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTinyModel } from "@distillery/engine-local";
import { afterAll, describe, expect, it } from "vitest";
import { createEngineRunner, createOrtRunner } from "./runners.ts";

const dir = mkdtempSync(join(tmpdir(), "runners-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runners", () => {
  it("onnxruntime's left-padded batched decoding gives the engine's logits for every slot", async () => {
    const modelDir = join(dir, "tiny");
    createTinyModel(modelDir, {
      corpus: ["What is 12 + 30? 42", "What is 7 + 8? 15"],
      vocabSize: 280,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      maxPositions: 64,
      template: "phi3",
      seed: 3,
    });
    const engine = createEngineRunner({ modelDir, slots: 3 });
    const onnx = await createOrtRunner({ modelDir, slots: 3, threads: 1 });
    const prompts = [[5, 9, 14], [7, 7, 3, 20, 11, 2], [40]];
    const slots = [2, 0, 1];
    const close = (a: Float32Array, b: Float32Array) => {
      let worst = 0;
      for (let i = 0; i < a.length; i++)
        worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
      return worst;
    };
    for (const [i, p] of prompts.entries()) {
      const [a, b] = [await engine.prefill(slots[i]!, p), await onnx.prefill(slots[i]!, p)];
      expect(close(a, b)).toBeLessThan(1e-3);
    }
    for (let step = 0; step < 4; step++) {
      const tokens = [3 + step, 17, 60 - step];
      const a = await engine.decode(slots, tokens);
      const b = await onnx.decode(slots, tokens);
      for (let r = 0; r < 3; r++) expect(close(a[r]!, b[r]!)).toBeLessThan(1e-3);
    }
    expect(onnx.length(0)).toBe(prompts[1]!.length + 4);
    // a freed slot starts again from nothing
    onnx.reset(2);
    engine.reset(2);
    expect(close(await engine.prefill(2, [8, 8]), await onnx.prefill(2, [8, 8]))).toBeLessThan(1e-3);
  });
});
