import { describe, expect, it } from "vitest";
import { checkThinkFormat } from "./check-think-format.ts";

describe("checkThinkFormat", () => {
  it("accepts exactly one think block before an answer", () => {
    const r = checkThinkFormat("<think>\n7+5=12\n</think>\n\n\\boxed{12}");
    expect(r).toEqual({ isCompliant: true, reasoning: "7+5=12", answer: "\\boxed{12}" });
  });
  it("rejects missing, unclosed, repeated, late or answerless blocks", () => {
    expect(checkThinkFormat("\\boxed{12}").isCompliant).toBe(false);
    expect(checkThinkFormat("\\boxed{12}").reasoning).toBeNull();
    expect(checkThinkFormat("<think>\n7+5=12").isCompliant).toBe(false);
    expect(checkThinkFormat("<think>a</think><think>b</think> 1").isCompliant).toBe(false);
    expect(checkThinkFormat("so <think>a</think> 1").isCompliant).toBe(false);
    expect(checkThinkFormat("<think>a</think>\n\n").isCompliant).toBe(false);
    expect(checkThinkFormat("</think> 1").isCompliant).toBe(false);
  });
});
