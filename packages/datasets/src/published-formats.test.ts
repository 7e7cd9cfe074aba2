import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toCsv } from "@distillery/core";
import { PUBLISHED_SHAPES, S1K_ROW, STRATOS_ROW } from "@distillery/core/dataset-fixtures";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatasetError } from "./dataset-error.ts";
import { createFsRowSink } from "./fs-row-sink.ts";
import { ingestDataset } from "./ingest-dataset.ts";
import { previewSource } from "./preview-source.ts";
import { readVersionRows } from "./read-version-rows.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "published-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Row = Record<string, unknown>;
const columnsOf = (rows: Row[]) => [...new Set(rows.flatMap((r) => Object.keys(r)))];

/** The same rows in each format a user might download them in. */
function encode(format: "jsonl" | "csv" | "parquet", rows: Row[]): Buffer {
  const columns = columnsOf(rows);
  if (format === "jsonl") return Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n"));
  if (format === "csv")
    return Buffer.from(
      toCsv(
        columns,
        rows.map((r) => columns.map((c) => r[c])),
      ),
    );
  return Buffer.from(
    parquetWriteBuffer({
      columnData: columns.map((name) => ({ name, data: rows.map((r) => r[name] ?? null) })),
    }),
  );
}

async function importAs(format: "jsonl" | "csv" | "parquet", rows: Row[], name = "data") {
  const path = join(dir, `${name}.${format}`);
  await writeFile(path, encode(format, rows));
  const preview = await previewSource({ path });
  const out = join(dir, `v-${name}-${format}`);
  const report = await ingestDataset({ source: { path }, sink: createFsRowSink({ dir: out }) });
  const examples = [];
  for await (const e of readVersionRows(report.sink.location, { validate: true })) examples.push(e);
  return { preview, report, examples };
}

describe("the same data detects the same shape in JSONL, CSV and Parquet, before and after import", () => {
  for (const fixture of PUBLISHED_SHAPES) {
    it(fixture.name, async () => {
      const rows = [fixture.row as Row, fixture.row as Row];
      const seen = [];
      for (const format of ["jsonl", "csv", "parquet"] as const) {
        const { preview, report, examples } = await importAs(format, rows, fixture.name.replace(/\W+/g, "-"));
        expect(preview.detected?.shape, format).toBe(fixture.shape);
        expect(report.shape, format).toBe(fixture.shape);
        expect(examples[0]?.reasoning, format).toBe(fixture.reasoning);
        expect(examples[0]?.answer, format).toBe(fixture.answer);
        seen.push(examples);
      }
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[2]).toEqual(seen[0]);
    });
  }

  it("a mapping the user gave that equals the detected one keeps the shape's name; another is custom", async () => {
    const path = join(dir, "s1k.parquet");
    await writeFile(path, encode("parquet", [S1K_ROW]));
    const preview = await previewSource({ path });
    const mapping = preview.detected?.mapping;
    if (mapping?.kind !== "columns") throw new Error("s1K not detected");
    const same = await ingestDataset({
      source: { path },
      sink: createFsRowSink({ dir: join(dir, "a") }),
      mapping,
    });
    expect(same.shape).toBe("s1k");
    const other = await ingestDataset({
      source: { path },
      sink: createFsRowSink({ dir: join(dir, "b") }),
      mapping: { ...mapping, answer: "solution" },
    });
    expect(other.shape).toBe("custom");
  });

  it("Stratos: the shared system prompt can be dropped or replaced for the whole import", async () => {
    const path = join(dir, "stratos.jsonl");
    await writeFile(path, encode("jsonl", [STRATOS_ROW, STRATOS_ROW]));
    const preview = await previewSource({ path });
    const mapping = preview.detected?.mapping;
    if (!mapping) throw new Error("Stratos not detected");
    for (const [choice, system] of [
      [{ mode: "drop" }, undefined],
      [{ mode: "replace", text: "Think step by step." }, "Think step by step."],
    ] as const) {
      const out = join(dir, `v-${choice.mode}`);
      const report = await ingestDataset({
        source: { path },
        sink: createFsRowSink({ dir: out }),
        mapping: { ...mapping, systemPrompt: choice },
      });
      expect(report.shape).toBe("sharegpt");
      for await (const e of readVersionRows(report.sink.location)) expect(e.system).toBe(system);
    }
  });

  it("with no shape detected, nothing is imported on a guess", async () => {
    const path = join(dir, "odd.jsonl");
    await writeFile(path, encode("jsonl", [{ solution: "s", question: "q" }]));
    const preview = await previewSource({ path });
    expect(preview.detected).toBeNull();
    expect(preview.columns).toEqual(["solution", "question"]);
    await expect(
      ingestDataset({ source: { path }, sink: createFsRowSink({ dir: join(dir, "v") }) }),
    ).rejects.toMatchObject({
      code: "unknown_shape",
    });
  });
});

describe("hostile rows", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  it("a row nested 10,000 deep: the preview refuses it naming the row and the limit; the import reports it", async () => {
    const path = join(dir, "deep.jsonl");
    await writeFile(
      path,
      `{"instruction":"a","response":"b"}\n{"instruction":"a","response":${deep(10_000)}}\n`,
    );
    const err = await previewSource({ path }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.code).toBe("too_deep");
    expect(err.message).toBe(
      "deep.jsonl, line 2: the row is nested more than 64 levels deep (the limit is 64)",
    );
    const report = await ingestDataset({ source: { path }, sink: createFsRowSink({ dir: join(dir, "v") }) });
    expect(report.rows).toBe(1);
    expect(report.errors[0]).toMatchObject({ line: 2, reason: expect.stringContaining("levels deep") });
    // in a JSON array too
    const arr = join(dir, "deep.json");
    await writeFile(arr, `[{"instruction":"a","response":${deep(10_000)}}]`);
    await expect(previewSource({ path: arr })).rejects.toMatchObject({ code: "too_deep" });
  });

  it("a CSV header of 100,000 columns is refused from its first chunk", async () => {
    const path = join(dir, "wide.csv");
    const cols = Array.from({ length: 100_000 }, (_, i) => `c${i}`);
    await writeFile(path, `${cols.join(",")}\n${cols.map(() => "v").join(",")}\n`);
    await expect(previewSource({ path })).rejects.toMatchObject({
      code: "too_many_columns",
      message: "wide.csv, line 1: the header has more than 1,000 columns (the limit is 1,000)",
    });
  });

  it("NUL in text: the row is bad, naming line and field; the rest imports", async () => {
    const path = join(dir, "nul.jsonl");
    await writeFile(
      path,
      [
        JSON.stringify({ instruction: "ok", response: "fine" }),
        JSON.stringify({ instruction: "bad\u0000row", response: "x" }),
        JSON.stringify({
          instruction: "fine",
          response: "x",
          conversations: [{ from: "human", value: "\u0000" }],
        }),
      ].join("\n"),
    );
    const report = await ingestDataset({ source: { path }, sink: createFsRowSink({ dir: join(dir, "v") }) });
    expect(report.errors).toEqual([
      { file: "nul.jsonl", line: 2, field: "instruction", reason: expect.stringContaining("NUL") },
    ]);
    expect(report.rows).toBe(2); // a NUL in a column the mapping does not read is not stored
    const reject = ingestDataset({
      source: { path },
      sink: createFsRowSink({ dir: join(dir, "r") }),
      policy: "reject",
    });
    await expect(reject).rejects.toThrow('nul.jsonl, line 2, field "instruction": contains a NUL character');
    expect(await readdir(join(dir, "r")).catch(() => [])).toEqual([]);
    // a raw NUL byte in the first bytes: the file is binary, refused as a whole
    const raw = join(dir, "raw.jsonl");
    await writeFile(raw, `{"instruction":"raw\u0000byte","response":"x"}`);
    await expect(previewSource({ path: raw })).rejects.toMatchObject({ code: "bad_encoding" });
  });

  it("silent coercions are reported: numbers as text, 1e999, duplicate keys", async () => {
    const path = join(dir, "coerce.jsonl");
    await writeFile(
      path,
      [
        '{"instruction":"q","response":"a","reference":42}',
        '{"instruction":"q","response":"a","reference":1e999}',
        '{"instruction":"first","instruction":"second","response":"a"}',
      ].join("\n"),
    );
    const report = await ingestDataset({
      source: { path },
      sink: createFsRowSink({ dir: join(dir, "v") }),
      mapping: { kind: "columns", prompt: "instruction", response: "response", reference: "reference" },
    });
    expect(report.coercions).toEqual([
      { kind: "number-as-text", rows: 1, first: { file: "coerce.jsonl", line: 1, field: "reference" } },
      { kind: "non-finite-number", rows: 1, first: { file: "coerce.jsonl", line: 2, field: "reference" } },
      { kind: "duplicate-key", rows: 1, first: { file: "coerce.jsonl", line: 3, field: "instruction" } },
    ]);
  });
});
