import { describe, expect, it } from "vitest";
import { ZDatasetMapping } from "./dataset-mapping.ts";
import { detectShape } from "./detect-shape.ts";
import { mapRow } from "./map-row.ts";
import { splitReasoning } from "./split-reasoning.ts";

function mapDetected(row: Record<string, unknown>) {
  const detected = detectShape([row]);
  if (!detected) throw new Error("no shape");
  return { shape: detected.shape, result: mapRow(row, detected.mapping) };
}

describe("shape detection and mapping", () => {
  it("Magpie: instruction/response with <think> inside", () => {
    const { shape, result } = mapDetected({
      instruction: "Add 2 and 2.",
      response: "<think>\nTwo plus two.\n</think>\n\n**4**",
      gen_input_configs: { temperature: 1 },
    });
    expect(shape).toBe("magpie");
    expect(result).toEqual({
      ok: true,
      example: {
        messages: [{ role: "user", content: "Add 2 and 2." }],
        reasoning: "Two plus two.",
        answer: "**4**",
        think: "ok",
      },
    });
  });

  it("Alpaca: instruction + input joined, output as response", () => {
    const { shape, result } = mapDetected({ instruction: "Translate.", input: "Bonjour", output: "Hello" });
    expect(shape).toBe("alpaca");
    expect(result).toEqual({
      ok: true,
      example: {
        messages: [{ role: "user", content: "Translate.\n\nBonjour" }],
        reasoning: null,
        answer: "Hello",
        think: "missing",
      },
    });
    // empty input is not appended
    const empty = mapDetected({ instruction: "Hi", input: "", output: "Hey" }).result;
    expect(empty.ok && empty.example.messages[0]?.content).toBe("Hi");
  });

  it("ShareGPT: conversations with from/value, system turn first", () => {
    const { shape, result } = mapDetected({
      conversations: [
        { from: "system", value: "Be terse." },
        { from: "human", value: "Hi" },
        { from: "gpt", value: "Hello" },
        { from: "human", value: "2+2?" },
        { from: "gpt", value: "<think>sum</think>4" },
      ],
    });
    expect(shape).toBe("sharegpt");
    expect(result).toEqual({
      ok: true,
      example: {
        system: "Be terse.",
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello" },
          { role: "user", content: "2+2?" },
        ],
        reasoning: "sum",
        answer: "4",
        think: "ok",
      },
    });
  });

  it("OpenAI messages with reasoning_content", () => {
    const { shape, result } = mapDetected({
      messages: [
        { role: "user", content: "Why?" },
        { role: "assistant", content: "Because.", reasoning_content: "Let me think." },
      ],
    });
    expect(shape).toBe("openai");
    expect(result).toEqual({
      ok: true,
      example: {
        messages: [{ role: "user", content: "Why?" }],
        reasoning: "Let me think.",
        answer: "Because.",
        think: "separate",
      },
    });
  });

  it("R1-style: problem/solution with reasoning in its own column and a reference answer", () => {
    const { shape, result } = mapDetected({
      problem: "1+1?",
      reasoning: "<think>one and one</think>",
      solution: "\\boxed{2}",
      answer: "2",
    });
    expect(shape).toBe("r1");
    expect(result).toEqual({
      ok: true,
      example: {
        messages: [{ role: "user", content: "1+1?" }],
        reasoning: "one and one",
        answer: "\\boxed{2}",
        reference: "2",
        think: "separate",
      },
    });
  });

  it("custom column mapping, validated with zod", () => {
    const mapping = ZDatasetMapping.parse({
      kind: "columns",
      prompt: "q",
      reasoning: "cot",
      answer: "a",
      system: "sys",
    });
    expect(mapRow({ q: "Q", cot: "C", a: 42, sys: "S" }, mapping)).toEqual({
      ok: true,
      example: {
        system: "S",
        messages: [{ role: "user", content: "Q" }],
        reasoning: "C",
        answer: "42",
        think: "separate",
      },
      coercions: [{ kind: "number-as-text", field: "a" }],
    });
    expect(ZDatasetMapping.safeParse({ kind: "columns", prompt: "q" }).success).toBe(false);
  });

  it("returns null for unknown shapes", () => {
    expect(detectShape([{ foo: 1 }])).toBeNull();
    expect(detectShape([])).toBeNull();
  });
});

describe("bad rows name the field and the reason", () => {
  const magpie = ZDatasetMapping.parse({ kind: "columns", prompt: "instruction", response: "response" });
  it.each([
    [{ response: "x" }, "instruction", 'column "instruction" is missing'],
    [{ instruction: "  ", response: "x" }, "instruction", 'column "instruction" is empty'],
    [
      { instruction: ["a"], response: "x" },
      "instruction",
      'column "instruction" holds a list of 1, not text; pick an element (instruction[0], instruction[-1]) or join them (instruction[*])',
    ],
  ])("%j", (row, field, reason) => {
    expect(mapRow(row, magpie)).toEqual({ ok: false, field, reason });
  });
  it("rejects conversations that do not end with the assistant", () => {
    const m = ZDatasetMapping.parse({ kind: "messages", column: "messages" });
    expect(mapRow({ messages: [{ role: "user", content: "hi" }] }, m)).toMatchObject({
      ok: false,
      field: "messages",
    });
    expect(mapRow({ messages: [{ role: "tool", content: "hi" }] }, m)).toMatchObject({
      ok: false,
      field: "messages[0].role",
      reason: 'unsupported role "tool"',
    });
    expect(mapRow({ messages: "nope" }, m)).toMatchObject({
      ok: false,
      reason: 'column "messages" is not a list of turns',
    });
  });
});

describe("splitReasoning", () => {
  it("handles the think-tag cases", () => {
    expect(splitReasoning("<think>\na\n</think>\n\nb")).toEqual({
      reasoning: "a",
      answer: "b",
      status: "ok",
    });
    expect(splitReasoning("a</think>b")).toEqual({ reasoning: "a", answer: "b", status: "ok" });
    expect(splitReasoning("just b")).toEqual({ reasoning: null, answer: "just b", status: "missing" });
    expect(splitReasoning("<think>a never ends")).toEqual({
      reasoning: "a never ends",
      answer: "",
      status: "unclosed",
    });
  });
});
