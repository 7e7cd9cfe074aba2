import { describe, expect, it } from "vitest";
import { splitThink } from "./split-think.ts";

describe("splitThink", () => {
  it("separates the reasoning from the answer", () => {
    expect(splitThink("<think>\n4+5=9\n</think>\n\n9<|end|>")).toEqual({
      think: "4+5=9",
      answer: "9<|end|>",
      isThinkClosed: true,
    });
  });
  it("treats an unclosed think as reasoning cut off", () => {
    expect(splitThink("<think>carry the 1")).toEqual({
      think: "carry the 1",
      answer: "",
      isThinkClosed: false,
    });
  });
  it("handles a lone closing tag and plain answers", () => {
    expect(splitThink("step\n</think>\n42")).toEqual({ think: "step", answer: "42", isThinkClosed: true });
    expect(splitThink("just 42")).toEqual({ think: null, answer: "just 42", isThinkClosed: false });
  });
});
