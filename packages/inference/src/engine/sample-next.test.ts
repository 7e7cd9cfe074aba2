import { describe, expect, it } from "vitest";
import { createRng, logprobsOf, sampleNext } from "./sample-next.ts";

describe("sampling", () => {
  const logits = Float32Array.from([0, 5, 4.9, -3, 1]);
  it("is greedy at temperature 0 and reproducible for a seed otherwise", () => {
    expect(sampleNext(logits, 5, { temperature: 0, topP: 1, topLogprobs: -1 }, createRng(1)).id).toBe(1);
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from(
        { length: 20 },
        () => sampleNext(logits, 5, { temperature: 1, topP: 1, topLogprobs: -1 }, rng).id,
      );
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
  it("samples only inside the top-p nucleus and never past the tokenizer's vocabulary", () => {
    const rng = createRng(3);
    const seen = new Set(
      Array.from(
        { length: 300 },
        () => sampleNext(logits, 5, { temperature: 1, topP: 0.5, topLogprobs: -1 }, rng).id,
      ),
    );
    expect([...seen]).toEqual([1]);
    const padded = Float32Array.from([0, 0, 50]);
    expect(sampleNext(padded, 2, { temperature: 0, topP: 1, topLogprobs: -1 }, rng).id).toBeLessThan(2);
  });
  it("log-probabilities are a normalised log-softmax with the k best alternatives", () => {
    const { logprob, top } = logprobsOf(logits, 5, 2, 3);
    const total = [...logits].reduce((s, v) => s + Math.exp(v), 0);
    expect(logprob).toBeCloseTo(4.9 - Math.log(total), 5);
    expect(top.map(([id]) => id)).toEqual([1, 2, 4]);
    expect(top.reduce((s, [, lp]) => s + Math.exp(lp), 0)).toBeLessThan(1);
  });
});
