import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_TEMPLATES, type CanonicalExample, extractFinalAnswer } from "@distillery/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersAgree } from "./extract-final-answer.ts";
import { filterVersion } from "./filter-version.ts";
import { createFsRowSink } from "./fs-row-sink.ts";
import { readVersionRows } from "./read-version-rows.ts";
import { splitVersion } from "./split-version.ts";
import { createTinyTokenizer } from "./test-fixtures/create-tiny-tokenizer.ts";
import { createTokenCounter } from "./token-counter.ts";
import { countExampleTokens, createTokenStats } from "./token-stats.ts";

const ex = (prompt: string, answer: string, extra: Partial<CanonicalExample> = {}): CanonicalExample => ({
  messages: [{ role: "user", content: prompt }],
  reasoning: "thinking",
  answer,
  think: "ok",
  ...extra,
});
const rows: CanonicalExample[] = [
  ex("What is 2+2?", "It is \\boxed{4}.", { reference: "4" }),
  ex("what is  2+2?", "It is 5", { reference: "4" }),
  ex("What is 2+2?", "dup exact"),
  ex("Tell a story", "Once upon a time", { reasoning: null, think: "missing" }),
  ex("Truncated", "", { think: "unclosed" }),
  ex("Sum 1,000 and 1", "\\boxed{1001}", { reference: "1001" }),
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "filter-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* from(list: CanonicalExample[]) {
  yield* list;
}
async function collect(path: string) {
  const out: CanonicalExample[] = [];
  for await (const r of readVersionRows(path)) out.push(r);
  return out;
}
let n = 0;
const sink = () => createFsRowSink({ dir: join(dir, `v${n++}`) });

describe("filters", () => {
  it("dedupes exactly and after normalisation", async () => {
    const exact = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "dedupe" }],
      sink: sink(),
    });
    expect(exact.output).toBe(5);
    const norm = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "dedupe", mode: "normalized" }],
      sink: sink(),
    });
    expect(norm.output).toBe(4);
    expect(norm.dropped).toEqual([{ filter: "dedupe", rows: 2 }]);
  });
  it("drops missing and unclosed think blocks", async () => {
    const r = await filterVersion({ readRows: () => from(rows), filters: [{ type: "think" }], sink: sink() });
    expect(r.output).toBe(4);
  });
  it("keeps rows whose final answer matches the reference", async () => {
    const r = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "answerMatch" }],
      sink: sink(),
    });
    expect((await collect(r.sink.location)).map((e) => e.answer)).toEqual([
      "It is \\boxed{4}.",
      "\\boxed{1001}",
    ]);
  });
  it("includes and excludes by regex", async () => {
    const inc = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "regex", pattern: "2\\+2", action: "include", field: "prompt" }],
      sink: sink(),
    });
    expect(inc.output).toBe(3);
    const exc = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "regex", pattern: "story", flags: "i", action: "exclude" }],
      sink: sink(),
    });
    expect(exc.output).toBe(5);
    await expect(
      filterVersion({
        readRows: () => from(rows),
        filters: [{ type: "regex", pattern: "(", action: "include" }],
        sink: sink(),
      }),
    ).rejects.toThrow(/invalid regular expression/);
  });
  it("samples N rows deterministically, in order", async () => {
    const a = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "sample", n: 3, seed: 1 }],
      sink: sink(),
    });
    const b = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "sample", n: 3, seed: 1 }],
      sink: sink(),
    });
    const ra = await collect(a.sink.location);
    expect(ra).toHaveLength(3);
    expect(ra).toEqual(await collect(b.sink.location));
  });
  it("drops rows over a token budget", async () => {
    const counter = createTokenCounter(createTinyTokenizer("What is the answer? It is four.", 50));
    const totals = rows
      .map((r) => countExampleTokens(r, counter, BUILTIN_TEMPLATES.phi3).total)
      .sort((a, b) => a - b);
    const r = await filterVersion({
      readRows: () => from(rows),
      filters: [{ type: "maxTokens", max: totals[2] as number }],
      sink: sink(),
      counter,
      template: BUILTIN_TEMPLATES.phi3,
    });
    expect(r.output).toBe(totals.filter((t) => t <= (totals[2] as number)).length);
  });
  it("fails cleanly when nothing is left", async () => {
    const out = join(dir, "empty");
    await expect(
      filterVersion({
        readRows: () => from(rows),
        filters: [{ type: "regex", pattern: "zzz", action: "include" }],
        sink: createFsRowSink({ dir: out }),
      }),
    ).rejects.toThrow(/no rows/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});

describe("split", () => {
  const many = Array.from({ length: 100 }, (_, i) => ex(`q${i}`, `a${i}`));
  it("splits 90/10 deterministically by seed", async () => {
    const s1 = await splitVersion({ readRows: () => from(many), train: sink(), test: sink(), seed: 7 });
    const s2 = await splitVersion({ readRows: () => from(many), train: sink(), test: sink(), seed: 7 });
    expect([s1.train.rows, s1.test.rows]).toEqual([90, 10]);
    const t1 = (await collect(s1.test.location)).map((e) => e.answer);
    expect(t1).toEqual((await collect(s2.test.location)).map((e) => e.answer));
    const s3 = await splitVersion({ readRows: () => from(many), train: sink(), test: sink(), seed: 8 });
    expect((await collect(s3.test.location)).map((e) => e.answer)).not.toEqual(t1);
    const train = (await collect(s1.train.location)).map((e) => e.answer);
    expect(new Set([...train, ...t1]).size).toBe(100);
  });
});

describe("answers and statistics", () => {
  it("extracts boxed answers and last numbers", () => {
    expect(extractFinalAnswer("so \\boxed{\\frac{1}{2}} done")).toBe("\\frac{1}{2}");
    expect(extractFinalAnswer("we get 3, then 42.")).toBe("42");
    expect(extractFinalAnswer("no numbers")).toBeNull();
    expect(answersAgree("total: 1,000", "1000")).toBe(true);
    expect(answersAgree("\\boxed{ 7 }", "\\boxed{7}")).toBe(true);
    expect(answersAgree("words", "7")).toBeNull();
  });
  it("computes histograms, truncation, think validity and answer presence", () => {
    const counter = createTokenCounter(createTinyTokenizer("What is the answer? It is four.", 50));
    const stats = createTokenStats({
      counter,
      template: BUILTIN_TEMPLATES.phi3,
      maxLength: 20,
      bins: 4,
      binWidth: 10,
    });
    for (const r of rows) stats.add(r);
    const s = stats.result();
    expect(s.rows).toBe(6);
    expect(s.think).toEqual({ ok: 4, separate: 0, missing: 1, unclosed: 1 });
    expect(s.withoutAnswer).toBe(1);
    expect(s.histograms.total.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(s.truncated).toBe(6); // every row is over 20 tokens
    const roomy = createTokenStats({ counter, maxLength: 100_000 });
    for (const r of rows) roomy.add(r);
    expect(roomy.result().truncated).toBe(0);
    expect(s.histograms.total.p50).toBeGreaterThan(s.histograms.answer.p50);
  });
});
