import { describe, expect, it } from "vitest";
import { bootstrapMeanInterval, passAtK, wilsonInterval } from "./eval-stats.ts";
import { computeEvaluationMetrics, type SampleScore } from "./evaluation-metrics.ts";

describe("evaluation statistics", () => {
  it("Wilson's interval matches the textbook value and stays inside [0, 1]", () => {
    const ci = wilsonInterval(81, 100);
    expect(ci.low).toBeCloseTo(0.7222, 3);
    expect(ci.high).toBeCloseTo(0.8749, 3);
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(10, 10).high).toBeCloseTo(1, 10);
  });
  it("the bootstrap interval holds the mean and narrows with more tasks", () => {
    const few = Array.from({ length: 20 }, (_, i) => (i % 2 ? 1 : 0));
    const many = Array.from({ length: 2000 }, (_, i) => (i % 2 ? 1 : 0));
    const a = bootstrapMeanInterval(few);
    const b = bootstrapMeanInterval(many);
    expect(a.low).toBeLessThan(0.5);
    expect(a.high).toBeGreaterThan(0.5);
    expect(b.high - b.low).toBeLessThan(a.high - a.low);
  });
  it("pass@k is 1 when fewer wrong samples than k remain", () => {
    expect(passAtK(4, 0, 4)).toBe(0);
    expect(passAtK(4, 1, 4)).toBe(1);
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 10);
  });
  it("aggregates samples into accuracy, pass@1, cons@k, pass@k, truncation and length buckets", () => {
    const s = (
      isCorrect: boolean,
      answer: string,
      reasoningTokens = 10,
      isTruncated = false,
    ): SampleScore => ({
      answer,
      isCorrect,
      isFormatCompliant: reasoningTokens > 0,
      reasoningTokens,
      answerTokens: 3,
      completionTokens: reasoningTokens + 3,
      isTruncated,
    });
    const m = computeEvaluationMetrics([
      { index: 0, reference: "4", scores: [s(true, "4"), s(false, "5"), s(true, "4")], seconds: 1 },
      {
        index: 1,
        reference: "9",
        scores: [s(false, "8", 0), s(false, "8", 0), s(true, "9", 0, true)],
        seconds: 1,
      },
    ]);
    expect(m.accuracy).toBe(0.5);
    expect(m.pass_at_1).toBeCloseTo((2 / 3 + 1 / 3) / 2, 10);
    expect(m.cons_at_k).toBe(0.5);
    expect(m.pass_at_k).toBe(1);
    expect(m.truncation_rate).toBeCloseTo(1 / 6, 10);
    expect(m.tokens_per_second).toBeCloseTo((13 * 3 + 3 * 3) / 2, 10);
    expect(m.by_reasoning_length.map((b) => [b.bucket, b.accuracy])).toEqual([
      ["0", 0],
      ["1–15", 1],
    ]);
  });
});
