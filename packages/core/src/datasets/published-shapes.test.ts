import { describe, expect, it } from "vitest";
import { readPath } from "./column-path.ts";
import { ZDatasetMapping } from "./dataset-mapping.ts";
import { detectShape, nameShape } from "./detect-shape.ts";
import { mapRow } from "./map-row.ts";
import {
  detectMarkers,
  REASONING_MARKERS,
  type ReasoningMarkers,
  splitReasoning,
} from "./split-reasoning.ts";
import { PUBLISHED_SHAPES, S1K_ROW, STRATOS_ROW } from "./test-fixtures/published-rows.ts";

/** What a CSV of the same rows holds: lists and objects as JSON text, null as empty. */
const asCsvRow = (row: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v),
    ]),
  );

describe("published schemas: one shape name each, the fields split right", () => {
  for (const fixture of PUBLISHED_SHAPES) {
    it(fixture.name, () => {
      for (const row of [fixture.row as Record<string, unknown>, asCsvRow(fixture.row)]) {
        const detected = detectShape([row]);
        expect(detected?.shape).toBe(fixture.shape);
        if (!detected) return;
        expect(nameShape([row], detected.mapping)).toBe(fixture.shape);
        const mapped = mapRow(row, detected.mapping);
        if (!mapped.ok) throw new Error(mapped.reason);
        const e = mapped.example;
        expect(e.messages[e.messages.length - 1]?.content).toBe(fixture.prompt);
        expect(e.reasoning).toBe(fixture.reasoning);
        expect(e.answer).toBe(fixture.answer);
        if ("reference" in fixture) expect(e.reference).toBe(fixture.reference);
        if ("system" in fixture) expect(e.system).toBe(fixture.system);
      }
    });
  }

  it("a changed mapping is custom, on the upload screen and after import alike", () => {
    const detected = detectShape([S1K_ROW]);
    if (detected?.mapping.kind !== "columns") throw new Error("no shape");
    expect(nameShape([S1K_ROW], { ...detected.mapping, answer: "solution" })).toBe("custom");
    // what to do with the system prompt is not part of the shape
    expect(nameShape([S1K_ROW], { ...detected.mapping, systemPrompt: { mode: "drop" } })).toBe("s1k");
  });

  it("s1K without detection: prompt and answer are never swapped by a guess", () => {
    // the columns come solution-first; nothing maps until the user says so
    expect(detectShape([{ solution: "s", question: "q", extra: "x" }])).toBeNull();
  });
});

describe("reasoning markers", () => {
  it("Stratos: thought and solution blocks, the answer loses the solution markers", () => {
    const text = STRATOS_ROW.conversations[1]?.value ?? "";
    const markers = detectMarkers([text]);
    expect(markers?.open).toBe("<|begin_of_thought|>");
    expect(splitReasoning(text, markers ?? undefined)).toEqual({
      reasoning: "Okay, multiplication comes first: 3 times 4 is 12.\n\nThen 2 plus 12 is 14.",
      answer: "By the order of operations, $2+3\\cdot 4 = 2+12 = \\boxed{14}$.",
      status: "ok",
    });
  });

  it.each(REASONING_MARKERS.map((m) => [m.id, m.markers] as const))("%s splits and is detected", (_id, m) => {
    const pair: ReasoningMarkers = m;
    const answer = pair.answerOpen ? `${pair.answerOpen}\nThe answer.\n${pair.answerClose}` : "The answer.";
    const text = `${m.open}\nstep one\nstep two\n${m.close}\n\n${answer}`;
    expect(detectMarkers([text])).toEqual(m);
    expect(splitReasoning(text, m)).toEqual({
      reasoning: "step one\nstep two",
      answer: "The answer.",
      status: "ok",
    });
    // truncated generation: opened, never closed
    expect(splitReasoning(`${m.open} half a thought`, m).status).toBe("unclosed");
  });

  it("<reasoning> + <answer> in a Magpie-shaped file is detected and mapped", () => {
    const row = { instruction: "2+2?", response: "<reasoning>\nadd\n</reasoning>\n<answer>\n4\n</answer>" };
    const detected = detectShape([row]);
    expect(detected?.mapping.markers?.open).toBe("<reasoning>");
    const mapped = detected && mapRow(row, detected.mapping);
    expect(mapped).toMatchObject({ ok: true, example: { reasoning: "add", answer: "4", think: "ok" } });
  });

  it("the mapping editor can set any pair", () => {
    const m = ZDatasetMapping.parse({
      kind: "columns",
      prompt: "q",
      response: "r",
      markers: { open: "«", close: "»", answerOpen: "ANSWER:" },
    });
    expect(mapRow({ q: "Q", r: "« hmm » ANSWER: 7" }, m)).toMatchObject({
      ok: true,
      example: { reasoning: "hmm", answer: "7" },
    });
  });
});

describe("column paths", () => {
  const row = {
    thinking_trajectories: ["first", "second"],
    messages: [
      { role: "user", content: "u" },
      { role: "assistant", content: "a" },
    ],
    metadata: { answer: "42", nested: { deep: "d" } },
    csv_list: '["x","y"]',
  };
  it.each([
    ["thinking_trajectories[0]", "first"],
    ["thinking_trajectories[-1]", "second"],
    ["thinking_trajectories[*]", "first\n\nsecond"],
    ["messages[-1].content", "a"],
    ["messages[*].content", "u\n\na"],
    ["metadata.answer", "42"],
    ["metadata.nested.deep", "d"],
    ["csv_list[1]", "y"],
    ["thinking_trajectories[5]", undefined],
  ])("%s", (path, value) => {
    expect(readPath(row, path)).toEqual({ ok: true, value });
  });
  it("names the step that cannot be taken", () => {
    expect(readPath(row, "metadata.answer[0]")).toEqual({
      ok: false,
      reason: '"metadata.answer" is text, not a list',
    });
    const m = ZDatasetMapping.parse({
      kind: "columns",
      prompt: "thinking_trajectories",
      answer: "metadata.answer",
    });
    expect(mapRow(row, m)).toMatchObject({ ok: false, field: "thinking_trajectories" });
  });
  it("a column literally named with a dot wins over the path", () => {
    expect(readPath({ "a.b": "lit", a: { b: "path" } }, "a.b")).toEqual({ ok: true, value: "lit" });
  });
});

describe("hostile text", () => {
  it("a NUL in text is a bad row naming the field", () => {
    const m = ZDatasetMapping.parse({ kind: "columns", prompt: "q", response: "r" });
    expect(mapRow({ q: "a\u0000b", r: "x" }, m)).toMatchObject({ ok: false, field: "q" });
    const chat = ZDatasetMapping.parse({ kind: "messages", column: "messages" });
    expect(
      mapRow(
        {
          messages: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "\u0000" },
          ],
        },
        chat,
      ),
    ).toMatchObject({ ok: false, field: "messages[1].content" });
  });
  it("numbers stored as text and 1e999 are reported as coercions", () => {
    const m = ZDatasetMapping.parse({ kind: "columns", prompt: "q", answer: "a", reference: "ref" });
    const r = mapRow(JSON.parse('{"q":"Q","a":7,"ref":1e999}'), m);
    expect(r).toMatchObject({
      ok: true,
      example: { answer: "7", reference: "Infinity" },
      coercions: expect.arrayContaining([
        { kind: "number-as-text", field: "a" },
        { kind: "non-finite-number", field: "ref" },
      ]),
    });
  });
});
