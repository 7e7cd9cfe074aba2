import { describe, expect, it } from "vitest";
import { Rng } from "../kernels/rng.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { allocateModel, initializeModel } from "../model/llama-model.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
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
