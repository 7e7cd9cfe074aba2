import { describe, expect, it } from "vitest";
import { extractBoxed, extractFinalAnswer, extractLastNumber } from "./extract-final-answer.ts";

describe("extractFinalAnswer", () => {
  it("takes the last \\boxed{} after </think>, not numbers in the reasoning", () => {
    expect(extractFinalAnswer("<think>\n7+5=12\n</think>\n\n\\boxed{7522}")).toBe("7522");
    expect(extractFinalAnswer("<think>\nmaybe \\boxed{1}\n</think>\n\nso 42")).toBe("42");
  });
  it("falls back to the last number", () => {
    expect(extractFinalAnswer("The sum is 1,234.")).toBe("1,234");
    expect(extractFinalAnswer("answer: -3.5 then 7")).toBe("7");
  });
  it("balances braces inside \\boxed{}", () => {
    expect(extractBoxed("x \\boxed{\\frac{1}{2}} y")).toBe("\\frac{1}{2}");
  });
  it("skips a truncated \\boxed{ for an earlier complete one", () => {
    expect(extractBoxed("\\boxed{5} and \\boxed{6")).toBe("5");
  });
  it("ends on an unbalanced \\boxed{ at the very start (a model's output once hung the scorer here)", () => {
    expect(extractFinalAnswer("\\boxed{15\n{1+95}")).toBe("95");
    expect(extractFinalAnswer("\\boxed{")).toBeNull();
  });
  it("has no answer when there is nothing to extract or the think block never closes", () => {
    expect(extractFinalAnswer("no digits here")).toBeNull();
    expect(extractFinalAnswer("<think>\n7+5=12\n")).toBeNull();
    expect(extractFinalAnswer("<think>\nwork 9\n</think>\n\n")).toBeNull();
    expect(extractLastNumber("")).toBeNull();
  });
});
