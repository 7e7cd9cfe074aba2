import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError } from "./dataset-error.ts";
import { createFsRowSink } from "./fs-row-sink.ts";
import { ingestDataset } from "./ingest-dataset.ts";
import { readVersionRows } from "./read-version-rows.ts";
import { createSeededRandom } from "./seeded-random.ts";

/**
 * Mutates valid files (bit flips, truncation, spliced garbage, duplicated ranges, hostile bytes)
 * and checks the contract: every import either commits valid rows or fails with a DatasetError,
 * never crashes or rejects unhandled, and a failure leaves no file in the version folder.
 */
const CASES_PER_SEED = 600;
const rows = Array.from({ length: 12 }, (_, i) => ({
  instruction: `Question ${i}: what is ${i} + ${i}? "quoted", comma`,
  response: `<think>\nAdd ${i} and ${i}.\n</think>\n\nThe answer is \\boxed{${2 * i}} — ünïcode 🙂`,
}));
const seeds: [string, Buffer][] = [
  ["data.jsonl", Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n"))],
  ["data.json", Buffer.from(JSON.stringify(rows, null, 1))],
  [
    "data.csv",
    Buffer.from(
      `instruction,response\n${rows.map((r) => `"${r.instruction.replaceAll('"', '""')}","${r.response.replaceAll('"', '""')}"`).join("\n")}\n`,
    ),
  ],
  [
    "data.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "instruction", data: rows.map((r) => r.instruction) },
          { name: "response", data: rows.map((r) => r.response) },
        ],
      }),
    ),
  ],
  ["data.jsonl.gz", gzipSync(Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n")))],
];
const HOSTILE = [
  0x00, 0xff, 0xfe, 0x22, 0x0a, 0x0d, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d, 0x5c, 0xc3, 0x80, 0xed, 0xa0,
];

function mutate(input: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    const op = Math.floor(rnd() * 6);
    if (op === 0 && b.length > 0) b[at] = (b[at] as number) ^ (1 << Math.floor(rnd() * 8));
    else if (op === 1) b = b.subarray(0, at);
    else if (op === 2) {
      const junk = Buffer.from(
        Array.from(
          { length: 1 + Math.floor(rnd() * 8) },
          () => HOSTILE[Math.floor(rnd() * HOSTILE.length)] as number,
        ),
      );
      b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    } else if (op === 3) {
      const len = Math.floor(rnd() * 64);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    } else if (op === 4) b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(rnd() * 32))]);
    else if (b.length > 0) b[at] = Math.floor(rnd() * 256);
  }
  return b;
}

let dir: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fuzz-"));
  process.on("unhandledRejection", onUnhandled);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await rm(dir, { recursive: true, force: true });
});

describe("fuzzed imports", () => {
  it.each(seeds.map(([name, buf], i) => [name, buf, i] as const))(
    "%s",
    async (name, original, seedIndex) => {
      const rnd = createSeededRandom(1000 + seedIndex);
      const outcomes = { committed: 0, rejected: 0 };
      for (let c = 0; c < CASES_PER_SEED; c++) {
        const bytes = c === 0 ? original : mutate(original, rnd);
        const path = join(dir, `${seedIndex}-${c}-${name}`);
        const out = join(dir, `${seedIndex}-${c}-out`);
        await writeFile(path, bytes);
        const policy = c % 2 === 0 ? "skip" : "reject";
        try {
          const report = await ingestDataset({
            source: { path, fileName: name },
            sink: createFsRowSink({ dir: out }),
            policy,
            limits: { maxLineBytes: 4096 },
          });
          let n = 0;
          for await (const _ of readVersionRows(report.sink.location, { validate: true })) n++;
          expect(n).toBe(report.rows);
          expect(report.rows).toBeGreaterThan(0);
          expect(await readdir(out)).toEqual(["rows.jsonl.gz"]);
          outcomes.committed++;
        } catch (err) {
          if (!(err instanceof DatasetError))
            throw new Error(
              `case ${c} of ${name} threw a non-DatasetError: ${String((err as Error).stack ?? err)}`,
            );
          expect(err.message.length).toBeGreaterThan(10);
          expect(await readdir(out).catch(() => [])).toEqual([]);
          outcomes.rejected++;
        }
        await rm(path);
        await rm(out, { recursive: true, force: true });
      }
      expect(outcomes.committed).toBeGreaterThan(0);
      expect(unhandled).toEqual([]);
    },
    300_000,
  ); // a generous ceiling for a loaded machine, not a speed check
});
