import { describe, expect, it } from "vitest";
import { Rng } from "../kernels/rng.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { allocateModel, initializeModel, listLoraParams } from "../model/llama-model.ts";
import { attachLora } from "../model/lora.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { generateTokens } from "./generate-tokens.ts";
import { createKvCache, forwardIncremental } from "./kv-cache-forward.ts";
import { sampleToken } from "./sample-token.ts";

describe("KV-cache generation", () => {
  it("prefill + one-token steps give the same logits as the full forward pass", () => {
    const model = allocateModel(makeTinyConfig({ qkvBias: true, numKvHeads: 1 }), "f64");
    initializeModel(model, 2, 0.3);
    const ids = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = forwardTrain(model, Int32Array.from(ids), 1, ids.length, null).logits;
    const V = model.config.vocabSize;
    const cache = createKvCache(model, ids.length);
    let logits = forwardIncremental(model, cache, ids.slice(0, 5));
    for (let t = 4; t < ids.length; t++) {
      for (let j = 0; j < V; j++) expect(logits[j]).toBeCloseTo(full[t * V + j] as number, 10);
      if (t + 1 < ids.length) logits = forwardIncremental(model, cache, [ids[t + 1]!]);
    }
  });

  it("float32 generation with weights packed in wasm memory follows the full forward, adapter and tied head included", () => {
    const config = makeTinyConfig({
      numHeads: 4,
      numKvHeads: 2,
      hiddenSize: 32,
      headDim: 8,
      intermediateSize: 48,
      tieWordEmbeddings: true,
      vocabSize: 40,
    });
    const model = allocateModel(config, "f32");
    initializeModel(model, 6, 0.5);
    attachLora(
      model,
      { r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"], useRslora: false },
      1,
    );
    const rng = Rng.fromSeed(9);
    for (const p of listLoraParams(model))
      for (let i = 0; i < p.data.length; i++) p.data[i] = 0.3 * rng.normal();
    /** greedy decoding by recomputing the whole sequence each step (unpacked, no cache) */
    const reference = (prompt: number[], n: number) => {
      const ids = [...prompt];
      for (let i = 0; i < n; i++) {
        const logits = forwardTrain(model, Int32Array.from(ids), 1, ids.length, null).logits;
        ids.push(sampleToken(logits.subarray((ids.length - 1) * config.vocabSize), 0, 1, rng));
      }
      return ids.slice(prompt.length);
    };
    const opts = { maxNewTokens: 12, temperature: 0, topP: 1, stopTokenIds: [], seed: 0 };
    const prompt = [3, 7, 1, 22];
    expect(generateTokens(model, prompt, opts)).toEqual(reference(prompt, 12));
    // packing lasts one generation: a weight changed afterwards is seen by the next one
    const w = model.layers[0]!.linears.up_proj.weight.data;
    for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) * -2;
    expect(generateTokens(model, prompt, opts)).toEqual(reference(prompt, 12));
  });

  it("samples greedily at temperature 0 and only from the top-p nucleus", () => {
    const logits = Float32Array.from([0, 5, 4.9, -3]);
    const rng = Rng.fromSeed(1);
    expect(sampleToken(logits, 0, 1, rng)).toBe(1);
    const seen = new Set(Array.from({ length: 200 }, () => sampleToken(logits, 1, 0.5, rng)));
    expect([...seen]).toEqual([1]);
    const wide = new Set(Array.from({ length: 400 }, () => sampleToken(logits, 1, 0.99, rng)));
    expect(wide.has(2)).toBe(true);
    expect(wide.has(3)).toBe(false);
  });
});
