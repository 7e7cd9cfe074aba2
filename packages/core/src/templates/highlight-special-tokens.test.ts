import { describe, expect, it } from "vitest";
import { BUILTIN_TEMPLATES } from "./builtin-templates.ts";
import { highlightSpecialTokens } from "./highlight-special-tokens.ts";

describe("highlightSpecialTokens", () => {
  it("marks special tokens and keeps the text whole", () => {
    const text = "<|user|>\nhi <b>x</b><|end|>\n<|assistant|>\n<think>\nhm\n</think>\n\nok<|end|>\n";
    const spans = highlightSpecialTokens(text, BUILTIN_TEMPLATES.phi3.specialTokens);
    expect(spans.map((s) => s.text).join("")).toBe(text);
    expect(spans.filter((s) => s.isSpecial).map((s) => s.text)).toEqual([
      "<|user|>",
      "<|end|>",
      "<|assistant|>",
      "<think>",
      "</think>",
      "<|end|>",
    ]);
  });
  it("prefers the longest token and handles regex characters", () => {
    expect(highlightSpecialTokens("a[x]]b", ["[x]", "[x]]"])).toEqual([
      { text: "a", isSpecial: false },
      { text: "[x]]", isSpecial: true },
      { text: "b", isSpecial: false },
    ]);
    expect(highlightSpecialTokens("", ["<s>"])).toEqual([]);
  });
});
