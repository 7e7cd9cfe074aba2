import { createReadStream, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CanonicalExample } from "@distillery/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createFsRowSink } from "./fs-row-sink.ts";
import { readVersionRows } from "./read-version-rows.ts";
import type { RowBlock } from "./row-sink.ts";
import { getSearchText, scanVersionRows } from "./scan-version-rows.ts";
import { createSeededRandom } from "./seeded-random.ts";

const ROWS = 3_000;
let path = "";
let blocks: RowBlock[] = [];

/** Rows with text that trips a raw-line search: JSON keys, escapes, case folding, emoji. */
function makeRow(i: number, rnd: () => number): CanonicalExample {
  const noise = Array.from({ length: 20 }, () => Math.floor(rnd() * 0xffffffff).toString(36)).join(" ");
  const special = [
    'She said "hello world" twice.', // quotes: escaped in JSON
    "ΟΔΥΣΣΕΥΣ sailed home.", // sigma: context-dependent lower case
    "İstanbul at night", // İ lower-cases to two code units
    "line one\nline two", // a newline inside a field
    "rocket 🚀 launch", // a surrogate pair
    "the content of the role", // words that are also JSON keys
  ][i % 6] as string;
  return {
    ...(i % 7 === 0 ? { system: `System ${i}: be brief.` } : {}),
    messages: [{ role: "user", content: `Question ${i}: ${i % 50 === 0 ? "Needle-Case " : ""}${special}` }],
    reasoning: i % 3 === 0 ? null : `${noise}\nthink about ${i}`,
    answer: `Answer ${i % 10 === 9 ? "needle-case" : String(i)} ${noise.slice(0, 40)}`,
    think: i % 3 === 0 ? "missing" : "ok",
  };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "scan-rows-"));
  const rnd = createSeededRandom(7);
  // small gzip members, so a page can start in the middle of the file
  const sink = createFsRowSink({ dir, blockBytes: 32 * 1024 });
  for (let i = 0; i < ROWS; i += 100)
    await sink.write(Array.from({ length: 100 }, (_, j) => makeRow(i + j, rnd)));
  const result = await sink.commit();
  path = result.location;
  blocks = result.blocks ?? [];
});

const open = (counter?: { bytes: number }) => async (offset: number) => {
  const s = createReadStream(path, { start: offset, highWaterMark: 16 * 1024 });
  if (counter) s.on("data", (c) => (counter.bytes += c.length));
  return s;
};

/** The obvious search: parse every row, lower-case its text. */
async function expected(needle: string): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  for await (const r of readVersionRows(path)) {
    if (getSearchText(r).toLowerCase().includes(needle.trim().toLowerCase())) out.push(i);
    i++;
  }
  return out;
}

/** Follows `next` to the end, a page at a time, collecting every match's index. */
async function searchAll(search: string, limit: number, maxScanBytes?: number, withBlocks = true) {
  const found: number[] = [];
  let from: number | null = 0;
  let requests = 0;
  while (from !== null) {
    const page = await scanVersionRows({
      open: open(),
      from,
      limit,
      search,
      ...(maxScanBytes ? { maxScanBytes } : {}),
      ...(withBlocks ? { blocks } : {}),
    });
    found.push(...page.rows.map((r) => r.index));
    expect(page.next === null || page.next > from).toBe(true);
    from = page.next;
    requests++;
  }
  return { found, requests };
}

describe("scanVersionRows", () => {
  it("writes the version as gzip members whose offsets a reader can start at", async () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks[0]).toEqual({ row: 0, offset: 0 });
    const all: CanonicalExample[] = [];
    for await (const r of readVersionRows(path)) all.push(r);
    expect(all).toHaveLength(ROWS);
    const b = blocks[7] as RowBlock;
    const page = await scanVersionRows({ open: open(), from: b.row, limit: 2, blocks: [b] });
    expect(page.rows.map((r) => r.example)).toEqual(all.slice(b.row, b.row + 2));
  });

  it.each([
    ["with", true],
    ["without", false],
  ])(
    "pages through a version without a search, each row keeping its index (%s seek points)",
    async (_, seek) => {
      const opts = seek ? { blocks } : {};
      const first = await scanVersionRows({ open: open(), limit: 5, ...opts });
      expect(first.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
      expect(first.next).toBe(5);
      const deep = await scanVersionRows({ open: open(), from: 2_345, limit: 3, ...opts });
      expect(deep.rows.map((r) => r.index)).toEqual([2_345, 2_346, 2_347]);
      expect(deep.rows[0]?.example.messages[0]?.content).toMatch(/^Question 2345:/);
      const end = await scanVersionRows({ open: open(), from: ROWS - 2, limit: 10, ...opts });
      expect(end.rows.map((r) => r.index)).toEqual([ROWS - 2, ROWS - 1]);
      expect(end.next).toBeNull();
    },
  );

  it("starts reading at the member that holds `from`", async () => {
    const seeking = { bytes: 0 };
    const skipping = { bytes: 0 };
    await scanVersionRows({ open: open(seeking), from: 2_900, limit: 5, blocks });
    await scanVersionRows({ open: open(skipping), from: 2_900, limit: 5 });
    expect(seeking.bytes).toBeLessThan(skipping.bytes / 5);
  });

  it.each([
    ["needle-case"],
    ["NEEDLE-CASE"],
    ['"hello world"'],
    ["οδυσσευς"],
    ["ΟΔΥΣΣΕΥΣ"],
    ["i̇stanbul"],
    ["🚀 launch"],
    ["content"], // also a JSON key in every row: only rows whose text has it match
    ["missing"], // a `think` value in a third of the rows, never in their text
    ["line one\nline two"],
    ["question 1234:"],
    ["no such text anywhere"],
  ])("finds exactly the rows whose text contains %j, across pages", async (needle) => {
    const want = await expected(needle);
    expect((await searchAll(needle, 7)).found).toEqual(want);
    expect((await searchAll(needle, 7, undefined, false)).found).toEqual(want);
  });

  it("answers a short page once its read budget is spent, and `next` goes on from there", async () => {
    const want = await expected("needle-case");
    const page = await scanVersionRows({
      open: open(),
      search: "no such text",
      maxScanBytes: 64 * 1024,
      blocks,
    });
    expect(page.rows).toEqual([]);
    expect(page.next).toBeGreaterThan(0);
    expect(page.next).toBeLessThan(ROWS);
    const { found, requests } = await searchAll("needle-case", 50, 64 * 1024);
    expect(found).toEqual(want);
    expect(requests).toBeGreaterThan(3);
  });

  it("stops reading the file once the page is full", async () => {
    const counter = { bytes: 0 };
    const page = await scanVersionRows({ open: open(counter), search: "needle-case", limit: 3, blocks });
    expect(page.rows.map((r) => r.index)).toEqual((await expected("needle-case")).slice(0, 3));
    expect(counter.bytes).toBeLessThan(statSync(path).size / 4);
  });
});
