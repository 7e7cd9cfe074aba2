import { describe, expect, it } from "vitest";
import { describeTokenizerDifference, firstTokenizerDifference } from "./tokenizer-compat.ts";

const tok = (vocab: Record<string, number>, added: [number, string][] = []) => ({
  model: { type: "BPE", vocab },
  added_tokens: added.map(([id, content]) => ({ id, content, special: true })),
});

describe("tokenizer compatibility", () => {
  const base = tok({ a: 0, b: 1, c: 2 }, [[3, "<|end|>"]]);

  it("same vocabulary and added tokens: no difference", () => {
    expect(firstTokenizerDifference(base, tok({ c: 2, a: 0, b: 1 }, [[3, "<|end|>"]]))).toBeNull();
  });

  it("the run's special tokens count as the student's when the teacher has them at the same ids", () => {
    const teacher = tok({ a: 0, b: 1, c: 2 }, [
      [3, "<|end|>"],
      [4, "<think>"],
      [5, "</think>"],
    ]);
    expect(firstTokenizerDifference(base, teacher, ["<think>", "</think>"])).toBeNull();
    expect(firstTokenizerDifference(base, teacher)).toEqual({
      id: 4,
      student: undefined,
      teacher: "<think>",
    });
    expect(firstTokenizerDifference(base, teacher, ["</think>", "<think>"])).toEqual({
      id: 4,
      student: "</think>",
      teacher: "<think>",
    });
  });

  it("names the first id that differs and both tokenizers", () => {
    const d = firstTokenizerDifference(base, tok({ a: 0, x: 1, c: 2 }, [[3, "<|end|>"]]));
    expect(d).toEqual({ id: 1, student: "b", teacher: "x" });
    expect(describeTokenizerDifference(d as NonNullable<typeof d>, { student: "s", teacher: "t" })).toBe(
      'the student (s) and the teacher (t) have different tokenizers: id 1 is "b" in the student and "x" in the teacher',
    );
  });

  it("reads Unigram vocabularies (lists of [token, score])", () => {
    const uni = (v: string[]) => ({ model: { type: "Unigram", vocab: v.map((t) => [t, 0]) } });
    expect(firstTokenizerDifference(uni(["a", "b"]), uni(["a", "b"]))).toBeNull();
    expect(firstTokenizerDifference(uni(["a", "b"]), uni(["a", "c"]))?.id).toBe(1);
  });
});
