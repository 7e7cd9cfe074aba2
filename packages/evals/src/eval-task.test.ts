import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readEvalTasks } from "./eval-task.ts";

describe("readEvalTasks", () => {
  const dir = mkdtempSync(join(tmpdir(), "eval-tasks-"));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  it("reads {prompt, reference} lines, skipping blank ones", () => {
    expect(
      readEvalTasks(file("ok.jsonl", '{"prompt":"p","reference":"1"}\n\n{"prompt":"q","reference":"2"}\n')),
    ).toEqual([
      { prompt: "p", reference: "1" },
      { prompt: "q", reference: "2" },
    ]);
  });
  it("names the file and line of a bad row", () => {
    expect(() =>
      readEvalTasks(file("bad.jsonl", '{"prompt":"p","reference":"1"}\n{"prompt":"p"}\n')),
    ).toThrow(/bad\.jsonl line 2: reference/);
    expect(() => readEvalTasks(file("json.jsonl", "{oops\n"))).toThrow(/line 1: not JSON/);
    expect(() => readEvalTasks(file("empty.jsonl", "\n"))).toThrow(/no tasks/);
  });
});
