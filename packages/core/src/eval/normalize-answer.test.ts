import { describe, expect, it } from "vitest";
import { isAnswerCorrect, normalizeAnswer, referenceAnswer } from "./normalize-answer.ts";

describe("normalizeAnswer", () => {
  it("compares numbers as numbers", () => {
    expect(normalizeAnswer("1,200")).toBe("1200");
    expect(normalizeAnswer("1200.0")).toBe("1200");
    expect(normalizeAnswer(" $07522$. ")).toBe("7522");
    expect(normalizeAnswer("1\\,000")).toBe("1000");
  });
  it("lower-cases anything else", () => {
    expect(normalizeAnswer("Yes")).toBe("yes");
  });
});

describe("isAnswerCorrect", () => {
  it("matches against a bare or a response-shaped reference", () => {
    expect(isAnswerCorrect("7522", "7522")).toBe(true);
    expect(isAnswerCorrect("7,522", "so \\boxed{7522}")).toBe(true);
    expect(referenceAnswer("it is 12 then 13")).toBe("13");
    expect(isAnswerCorrect("7521", "7522")).toBe(false);
    expect(isAnswerCorrect(null, "7522")).toBe(false);
  });
});
