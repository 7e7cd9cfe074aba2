import { BUILTIN_TEMPLATES, extractFinalAnswer, isAnswerCorrect, toEngineExample } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { generateProblems } from "./addition-problems.ts";
import { toDirectExample, toTraceExample, toWorkedExample } from "./demo-examples.ts";
import { readTraceResult, writeTeacherTrace } from "./teacher-trace.ts";

describe("writeTeacherTrace", () => {
  it("writes the documented column work", () => {
    expect(writeTeacherTrace({ a: 4537, b: 2985 })).toEqual({
      reasoning: "7+5+0=12\n3+8+1=12\n5+9+1=15\n4+2+1=07\n7522",
      answer: "\\boxed{7522}",
    });
    expect(writeTeacherTrace({ a: 999, b: 999 }).reasoning.split("\n").at(-1)).toBe("1998");
  });

  it("is right on every problem: the answer recomputed from the trace alone is the sum", () => {
    const { train, heldout } = generateProblems({ seed: 11, digits: 3, trainSize: 3000, heldoutSize: 200 });
    for (const p of [...train, ...heldout, { a: 100, b: 100 }, { a: 999, b: 1 }]) {
      const t = writeTeacherTrace(p);
      expect(readTraceResult(t.reasoning)).toBe(p.a + p.b);
      expect(isAnswerCorrect(extractFinalAnswer(t.answer), String(p.a + p.b))).toBe(true);
    }
  });

  it("rejects a trace with a wrong step", () => {
    const { reasoning } = writeTeacherTrace({ a: 4537, b: 2985 });
    expect(readTraceResult(reasoning.replace("3+8+1=12", "3+8+1=13"))).toBeNull();
    expect(readTraceResult(reasoning.replace("3+8+1=12", "3+8+0=11"))).toBeNull();
    expect(readTraceResult(reasoning.replace("5+9+1", "5 + 9 + 1"))).toBeNull();
    expect(readTraceResult(reasoning.replace(/7522$/, "7521"))).toBeNull();
    expect(readTraceResult("no work")).toBeNull();
  });

  it("renders in Phi-3's chat format with the reasoning in <think>", () => {
    const spec = BUILTIN_TEMPLATES.phi3;
    const trace = toEngineExample(toTraceExample({ a: 453, b: 298 }), spec);
    expect(trace.prompt).toBe("<|user|>\nWhat is 453 + 298?<|end|>\n<|assistant|>\n");
    expect(trace.completion).toBe(
      "<think>\n3+8+0=11\n5+9+1=15\n4+2+1=07\n751\n</think>\n\n\\boxed{751}<|end|>\n<|endoftext|>",
    );
    expect(toEngineExample(toDirectExample({ a: 453, b: 298 }), spec).completion).toBe(
      "\\boxed{751}<|end|>\n<|endoftext|>",
    );
    const worked = toEngineExample(toWorkedExample({ a: 453, b: 298 }), spec);
    expect(worked.prompt).toContain("Show your work. What is 453 + 298?");
    expect(worked.completion.startsWith(":\n3+8+0=11\n")).toBe(true);
    expect(worked.completion).not.toContain("<think>");
  });
});
