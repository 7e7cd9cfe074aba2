import { describe, expect, it } from "vitest";
import { answersMatch, extractTeacherAnswer, verifyCompletion } from "./verify-completion.ts";

describe("extractTeacherAnswer", () => {
  it("takes the last \\boxed{}, then 'The answer is', then the last number", () => {
    expect(extractTeacherAnswer("so \\boxed{3} no \\boxed{\\frac{1}{2}}")).toEqual({
      value: "\\frac{1}{2}",
      how: "boxed",
    });
    expect(extractTeacherAnswer("Checking 12 and 14. The answer is 26.")).toEqual({
      value: "26",
      how: "answer-is",
    });
    expect(extractTeacherAnswer("The final answer is: $x^2$")).toEqual({ value: "x^2", how: "answer-is" });
    expect(extractTeacherAnswer("we get 7 then 1,200")).toEqual({ value: "1,200", how: "last-number" });
    expect(extractTeacherAnswer("no idea")).toBeNull();
  });
});

describe("answersMatch", () => {
  it("normalises numbers, fractions and simple LaTeX as evaluations do", () => {
    expect(answersMatch("1,200", "1200")).toBe(true);
    expect(answersMatch("\\frac{1}{2}", "0.5")).toBe(true);
    expect(answersMatch("1/2", "\\dfrac{1}{2}")).toBe(true);
    expect(answersMatch("3", "The result is \\boxed{3}")).toBe(true);
    expect(answersMatch("\\text{Paris}", "paris")).toBe(true);
    expect(answersMatch("4", "5")).toBe(false);
  });
});

describe("verifyCompletion", () => {
  const ok = { reasoning: "2+3=5", answer: "\\boxed{5}", finishReason: "stop", think: "separate" };

  it("verifies a right, complete, well-formed answer", () => {
    expect(verifyCompletion(ok, "5")).toMatchObject({
      isVerified: true,
      isCorrect: true,
      extracted: "5",
      reasons: [],
    });
  });

  it("flags a wrong answer, truncation, a broken think block and duplicates", () => {
    expect(verifyCompletion(ok, "6")).toMatchObject({ isVerified: false, isCorrect: false });
    const cut = verifyCompletion(
      { reasoning: "2+3", answer: "", finishReason: "length", think: "unclosed" },
      "5",
    );
    expect(cut).toMatchObject({ isTruncated: true, isThinkValid: false, isVerified: false });
    expect(cut.reasons).toContain("truncated (finish_reason: length)");
    const seen = new Set<string>();
    expect(verifyCompletion(ok, "5", seen).isDuplicate).toBe(false);
    expect(verifyCompletion({ ...ok, answer: " \\boxed{5} " }, "5", seen)).toMatchObject({
      isDuplicate: true,
      isVerified: false,
    });
  });

  it("without a reference, verifies on format alone", () => {
    expect(verifyCompletion(ok, null)).toMatchObject({ isCorrect: null, isVerified: true });
    expect(verifyCompletion({ ...ok, reasoning: null, think: "missing" }, "")).toMatchObject({
      isVerified: false,
    });
  });
});
