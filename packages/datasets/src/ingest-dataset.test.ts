import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatasetError } from "./dataset-error.ts";
import { createFsRowSink } from "./fs-row-sink.ts";
import { ingestDataset } from "./ingest-dataset.ts";
import { readVersionRows } from "./read-version-rows.ts";
import { sanitizeFileName } from "./sanitize-file-name.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ingest-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const magpie = (i: number) => ({ instruction: `Q${i}`, response: `<think>\nr${i}\n</think>\n\nA${i}` });
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");

async function ingestFile(
  name: string,
  content: string | Buffer,
  extra: Partial<Parameters<typeof ingestDataset>[0]> = {},
) {
  const path = join(dir, name);
  await writeFile(path, content);
  const out = join(dir, "version");
  const report = await ingestDataset({
    source: { path, fileName: name },
    sink: createFsRowSink({ dir: out }),
    ...extra,
  });
  const rows = [];
  for await (const r of readVersionRows(report.sink.location, { validate: true })) rows.push(r);
  return { report, rows };
}

async function versionFiles() {
  return readdir(join(dir, "version")).catch(() => [] as string[]);
}

describe("formats", () => {
  it("JSONL with BOM, CRLF and blank lines", async () => {
    const { report, rows } = await ingestFile(
      "a.jsonl",
      `\ufeff${jsonl([magpie(1), magpie(2)]).replace("\n", "\r\n")}\n\n`,
    );
    expect(report.shape).toBe("magpie");
    expect(rows.map((r) => r.answer)).toEqual(["A1", "A2"]);
    expect(rows[0]?.reasoning).toBe("r1");
  });
  it("JSON array, pretty-printed", async () => {
    const { rows, report } = await ingestFile(
      "a.json",
      JSON.stringify([magpie(1), magpie(2), magpie(3)], null, 2),
    );
    expect(report.files[0]?.format).toBe("json");
    expect(rows).toHaveLength(3);
  });
  it("CSV with quoted multi-line fields", async () => {
    const csv = 'instruction,output\n"Say ""hi""","<think>\nok\n</think>\n\nhi"\nplain,answer\n';
    const { rows, report } = await ingestFile("a.csv", csv);
    expect(report.shape).toBe("alpaca");
    expect(rows[0]).toMatchObject({ messages: [{ content: 'Say "hi"' }], reasoning: "ok", answer: "hi" });
  });
  it("gzip-compressed JSONL, detected by magic bytes whatever the name", async () => {
    const { rows, report } = await ingestFile("data.bin", gzipSync(jsonl([magpie(1)])));
    expect(report.files[0]).toMatchObject({ compressed: true, format: "jsonl" });
    expect(rows).toHaveLength(1);
  });
  it("Parquet (and gzip-wrapped Parquet)", async () => {
    const buf = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "problem", data: ["1+1?", "2+2?"] },
          { name: "reasoning", data: ["one and one", "two and two"] },
          { name: "solution", data: ["\\boxed{2}", "\\boxed{4}"] },
        ],
      }),
    );
    const { rows, report } = await ingestFile("x.parquet", buf);
    expect(report.shape).toBe("r1");
    expect(rows.map((r) => r.reasoning)).toEqual(["one and one", "two and two"]);
    await rm(join(dir, "version"), { recursive: true });
    const gz = await ingestFile("x.parquet.gz", gzipSync(buf));
    expect(gz.rows).toHaveLength(2);
  });
});

describe("bad input", () => {
  it("skips malformed rows and reports file, line and reason", async () => {
    const text = [
      JSON.stringify(magpie(1)),
      "{not json",
      JSON.stringify({ instruction: "x" }),
      "[1]",
      JSON.stringify(magpie(2)),
    ].join("\n");
    const { report, rows } = await ingestFile("b.jsonl", text, { policy: "skip" });
    expect(rows).toHaveLength(2);
    expect(report.badRows).toBe(3);
    expect(report.errors[0]).toMatchObject({ file: "b.jsonl", line: 2 });
    expect(report.errors[0]?.reason).toMatch(/invalid JSON/);
    expect(report.errors[1]).toEqual({
      file: "b.jsonl",
      line: 3,
      field: "response",
      reason: 'column "response" is missing',
    });
    expect(report.errors[2]).toMatchObject({ line: 4, reason: "expected a JSON object, got an array" });
  });
  it("rejects on the first bad row and leaves nothing behind", async () => {
    const text = [JSON.stringify(magpie(1)), "{bad"].join("\n");
    await expect(ingestFile("c.jsonl", text, { policy: "reject" })).rejects.toThrow(
      /c\.jsonl, line 2: invalid JSON/,
    );
    expect(await versionFiles()).toEqual([]);
  });
  it.each([
    ["empty file", "e.jsonl", "", "empty"],
    ["UTF-16 BOM", "u.jsonl", Buffer.from([0xff, 0xfe, 0x7b, 0x00]), "bad_encoding"],
    ["UTF-16 without BOM", "u.csv", Buffer.from("a,b\n1,2\n", "utf16le"), "bad_encoding"],
    ["binary", "x.jsonl", Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x03, 0x7d, 0x41, 0x42]), "bad_encoding"],
    ["unknown shape", "s.jsonl", jsonl([{ foo: 1 }]), "unknown_shape"],
    ["unknown format", "x.txt", "hello, world", "unknown_format"],
    ["unclosed array", "a.json", '[{"instruction":"a","response":"b"}', "bad_format"],
    ["CSV duplicate header", "d.csv", "instruction,instruction\na,b\n", "bad_format"],
  ])("%s → %s", async (_label, name, content, code) => {
    const err = await ingestFile(name, content).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe(code);
    expect(await versionFiles()).toEqual([]);
  });
  it("reports invalid UTF-8 lines", async () => {
    const text = Buffer.concat([
      Buffer.from(`${JSON.stringify(magpie(1))}\n{"instruction":"\xff`, "latin1"),
      Buffer.from('","response":"x"}\n'),
    ]);
    const { report } = await ingestFile("l.jsonl", text);
    expect(report.errors[0]).toMatchObject({ line: 2, reason: "line is not valid UTF-8" });
  });
  it("limits line length without buffering the line", async () => {
    const long = JSON.stringify({ instruction: "x".repeat(5000), response: "y" });
    const { report, rows } = await ingestFile("long.jsonl", [long, JSON.stringify(magpie(1))].join("\n"), {
      limits: { maxLineBytes: 1000 },
    });
    expect(rows).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ line: 1, reason: "line is longer than 1000 bytes" });
  });
  it("enforces the file size limit", async () => {
    const err = await ingestFile("big.jsonl", jsonl([magpie(1), magpie(2)]), {
      limits: { maxFileBytes: 20 },
    }).catch((e) => e);
    expect(err).toMatchObject({ code: "too_large" });
  });
  it("stops a decompression bomb", async () => {
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"instruction":"'), Buffer.alloc(40 * 1024 * 1024, 0x61)]),
    );
    const err = await ingestFile("bomb.jsonl.gz", bomb).catch((e) => e);
    expect(err).toMatchObject({ code: "decompression_bomb" });
    const abs = await ingestFile("b2.gz", gzipSync(jsonl([magpie(1), magpie(2)])), {
      limits: { maxDecompressedBytes: 30 },
    }).catch((e) => e);
    expect(abs).toMatchObject({ code: "decompression_bomb" });
  });
  it("fails, rather than hangs, when the sink cannot write", async () => {
    const path = join(dir, "ok.jsonl");
    await writeFile(path, jsonl([magpie(1)]));
    await writeFile(join(dir, "not-a-dir"), "x");
    const sink = createFsRowSink({ dir: join(dir, "not-a-dir", "version") });
    await expect(ingestDataset({ source: { path }, sink })).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
  it("sanitises hostile file names", () => {
    expect(sanitizeFileName("../../etc/passwd")).toBe("passwd");
    expect(sanitizeFileName("C:\\Users\\x\\data.jsonl")).toBe("data.jsonl");
    expect(sanitizeFileName("evil\u202egpj.jsonl")).toBe("evilgpj.jsonl");
    expect(sanitizeFileName("...")).toBe("upload");
    expect(sanitizeFileName(`${"a".repeat(500)}.jsonl`)).toMatch(/^a+\.jsonl$/);
    expect(sanitizeFileName(`${"a".repeat(500)}.jsonl`).length).toBeLessThanOrEqual(120);
  });
});
