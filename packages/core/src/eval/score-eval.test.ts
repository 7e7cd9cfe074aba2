import { describe, expect, it } from "vitest";
import { computeEvalMetrics, majorityVote, scoreResponse } from "./score-eval.ts";

const good = (n: number) => `<think>\nwork\n</think>\n\n\\boxed{${n}}`;

describe("scoreResponse", () => {
  it("scores answer, format and reasoning length", () => {
    const s = scoreResponse(good(12), "12", { countTokens: (t) => t.length * 2 });
    expect(s).toEqual({
      answer: "12",
      isCorrect: true,
      isFormatCompliant: true,
      reasoningChars: 4,
      reasoningTokens: 8,
    });
    expect(scoreResponse("\\boxed{13}", "12").reasoningChars).toBe(0);
  });
});

describe("majorityVote", () => {
  it("votes on normalised answers, ties to the first seen", () => {
    expect(majorityVote(["1,000", "7", "1000", null])).toBe("1000");
    expect(majorityVote(["7", "8"])).toBe("7");
    expect(majorityVote([null, null])).toBeNull();
  });
});

describe("computeEvalMetrics", () => {
  it("computes accuracy (first sample), pass@1, cons@k and format compliance", () => {
    const { metrics, scores } = computeEvalMetrics([
      { reference: "12", responses: [good(12), good(12), "\\boxed{11}"] },
      { reference: "20", responses: ["\\boxed{19}", good(20), good(20)] },
      { reference: "30", responses: [good(31), good(32), "no answer"] },
    ]);
    expect(scores).toHaveLength(3);
    expect(metrics.n).toBe(3);
    expect(metrics.k).toBe(3);
    expect(metrics.accuracy).toBeCloseTo(1 / 3);
    expect(metrics.pass_at_1).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3);
    expect(metrics.cons_at_k).toBeCloseTo(2 / 3);
    expect(metrics.format_compliance).toBeCloseTo(6 / 9);
    expect(metrics.answered).toBeCloseTo(8 / 9);
    expect(metrics.mean_reasoning_tokens).toBeUndefined();
  });
  it("is all zeros for no tasks", () => {
    const { metrics } = computeEvalMetrics([]);
    expect(metrics).toMatchObject({ n: 0, k: 0, accuracy: 0, cons_at_k: 0 });
  });
});
