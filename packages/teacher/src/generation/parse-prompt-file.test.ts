import { describe, expect, it } from "vitest";
import { PromptInputError, parsePromptFile, selectPrompts } from "./parse-prompt-file.ts";

const error = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof PromptInputError) return e;
    throw e;
  }
  throw new Error("expected an error");
};

describe("parsePromptFile / selectPrompts", () => {
  it("reads JSONL, JSON, CSV and plain lines", () => {
    expect(parsePromptFile('{"q":"a","r":1}\n{"q":"b"}\n').columns).toEqual(["q", "r"]);
    expect(parsePromptFile('[{"q":"a"}]').format).toBe("json");
    const csv = parsePromptFile('q,r\n"what, then?",2\n', { fileName: "p.csv" });
    expect(selectPrompts(csv, { prompt: "q", reference: "r" }).prompts).toEqual([
      { prompt: "what, then?", reference: "2" },
    ]);
    expect(selectPrompts(parsePromptFile("one\n\ntwo\n"), { prompt: "prompt" }).prompts).toEqual([
      { prompt: "one" },
      { prompt: "two" },
    ]);
  });

  it("names the missing column and the ones there are", () => {
    const e = error(() => selectPrompts(parsePromptFile('{"question":"a"}'), { prompt: "prompt" }));
    expect(e.message).toBe('prompt column "prompt" does not exist (columns: "question")');
    expect(e.field).toBe("body.promptColumn");
    const r = error(() => selectPrompts(parsePromptFile('{"q":"a"}'), { prompt: "q", reference: "answer" }));
    expect(r.field).toBe("body.referenceColumn");
  });

  it("an empty file, a bad line, an empty column", () => {
    expect(error(() => parsePromptFile("  \n", { fileName: "p.jsonl" })).message).toBe(
      "p.jsonl: the file is empty",
    );
    const bad = error(() => parsePromptFile('{"q":"a"}\n{oops\n', { fileName: "p.jsonl" }));
    expect(bad.message).toBe("p.jsonl: line 2 is not valid JSON");
    expect(bad.line).toBe(2);
    expect(error(() => selectPrompts(parsePromptFile('{"q":""}'), { prompt: "q" })).message).toMatch(
      /empty in every row/,
    );
  });
});
