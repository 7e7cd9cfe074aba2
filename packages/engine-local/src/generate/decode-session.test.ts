import { describe, expect, it } from "vitest";
import { allocateModel, initializeModel } from "../model/llama-model.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { createDecodeSession } from "./decode-session.ts";
import { createKvCache, forwardIncremental } from "./kv-cache-forward.ts";

describe("decode session (continuous batching)", () => {
  it("a batched decoding step over sequences of different lengths gives each one's own logits", () => {
    const config = makeTinyConfig({
      numHeads: 4,
      numKvHeads: 2,
      hiddenSize: 32,
      headDim: 8,
      intermediateSize: 48,
      vocabSize: 40,
    });
    const model = allocateModel(config, "f32");
    initializeModel(model, 3, 0.5);
    const prompts = [[3, 7, 1], [5, 2, 9, 9, 4, 11], [8]];
    const next = [
      [4, 6, 1],
      [2, 2, 3],
      [30, 31, 32],
    ];
    // reference: each sequence alone, one token at a time
    const expected = prompts.map((p, s) => {
      const cache = createKvCache(model, 16);
      forwardIncremental(model, cache, p);
      return next[s]!.map((t) => Float32Array.from(forwardIncremental(model, cache, [t])));
    });
    const session = createDecodeSession(model, { slots: 4, capacity: 16 });
    try {
      // slot 2 left free; sequence 1 lives in slot 3
      const slots = [0, 3, 1];
      for (const [s, p] of prompts.entries()) session.prefill(slots[s]!, p);
      for (let step = 0; step < 3; step++) {
        const logits = session.decode(
          slots,
          next.map((n) => n[step]!),
        );
        for (let s = 0; s < 3; s++)
          for (let j = 0; j < config.vocabSize; j++)
            expect(logits[s]![j]).toBeCloseTo(expected[s]![step]![j] as number, 4);
      }
      expect(session.length(3)).toBe(prompts[1]!.length + 3);
      session.reset(3);
      expect(session.length(3)).toBe(0);
    } finally {
      session.close();
    }
  });
});
