/**
 * npm run bench:search -w packages/datasets — the row browser's search on a ~100k-row version
 * (Magpie-shaped rows with long <think> traces, ~400 MB of JSONL, gzipped as createFsRowSink
 * writes it). For each needle it times the first page of matches (10 rows, as the UI asks):
 * - before: the previous browseRows, which parsed every row of the version to count matches;
 * - after: scanVersionRows (raw-line prefilter, stops at a full page or its read budget), and
 *   for a needle the first request does not reach, the requests (following `next`) until the
 *   first match is shown (also without the version's seek points, as for versions written
 *   before rows were cut into gzip members).
 * Prints one JSON line per needle (median of BENCH_REPEAT runs). BENCH_ROWS overrides 100k.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type CanonicalExample, getPromptText } from "@distillery/core";
import { createFsRowSink } from "../src/fs-row-sink.ts";
import { ingestDataset } from "../src/ingest-dataset.ts";
import { readVersionRows } from "../src/read-version-rows.ts";
import type { RowBlock } from "../src/row-sink.ts";
import { scanVersionRows } from "../src/scan-version-rows.ts";
import { createRng, makeMagpieRow } from "./generate-magpie.ts";

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const PAGE = 10;
const rareAt = Math.floor(rows * 0.9);

/** The search as browseRows did it before: every row parsed, every match counted. */
async function searchBefore(path: string, q: string) {
  const needle = q.trim().toLowerCase();
  const page: { index: number; example: CanonicalExample }[] = [];
  let index = -1;
  let matched = 0;
  for await (const example of readVersionRows(path)) {
    index++;
    const text = `${example.system ?? ""}\n${getPromptText(example)}\n${example.reasoning ?? ""}\n${example.answer}`;
    if (!text.toLowerCase().includes(needle)) continue;
    matched++;
    if (page.length < PAGE) page.push({ index, example });
  }
  return { shown: page.length, matched };
}

/** Follows `next` until a match is on screen (or the version ends). */
async function searchAfter(path: string, q: string, blocks: RowBlock[] | undefined) {
  let from: number | null = 0;
  let requests = 0;
  let firstRequestMs = 0;
  let firstSearched: number | null = null;
  let shown = 0;
  const t = performance.now();
  while (from !== null && shown === 0) {
    const r = await scanVersionRows({
      open: async (start) => createReadStream(path, { start }),
      ...(blocks ? { blocks } : {}),
      from,
      limit: PAGE,
      search: q,
    });
    if (requests === 0) {
      firstRequestMs = performance.now() - t;
      firstSearched = r.next;
    }
    requests++;
    shown = r.rows.length;
    from = r.next;
  }
  return { shown, requests, firstRequestMs, firstSearched, untilShownMs: performance.now() - t };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const dir = await mkdtemp(join(tmpdir(), "distillery-bench-search-"));
try {
  const input = join(dir, "magpie.jsonl");
  const out = createWriteStream(input);
  const rnd = createRng(1);
  for (let i = 0; i < rows; i++) {
    let line = makeMagpieRow(rnd, i);
    if (i === rareAt) line = line.replace('"instruction":"', '"instruction":"zebra-needle ');
    if (!out.write(`${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const report = await ingestDataset({
    source: { path: input },
    sink: createFsRowSink({ dir: join(dir, "version") }),
    policy: "reject",
  });
  const path = report.sink.location;
  console.log(
    `version: ${report.rows} rows in ${report.sink.blocks?.length ?? 1} gzip members, ${((await stat(input)).size / 1048576).toFixed(0)} MB of JSONL, ` +
      `${((await stat(path)).size / 1048576).toFixed(0)} MB gzipped; ${availableParallelism()} cores, ` +
      `load ${loadavg()[0]?.toFixed(2)}`,
  );
  const needles: [string, string][] = [
    ["common (most rows)", "wait,"],
    ["uncommon (~1% of rows)", "\\boxed{42}"],
    [`rare (one row, at ${rareAt})`, "zebra-needle"],
    ["absent", "no such phrase"],
  ];
  for (const [label, q] of needles) {
    const before: number[] = [];
    const first: number[] = [];
    const until: number[] = [];
    const untilNoSeek: number[] = [];
    let matched = 0;
    let requests = 0;
    let firstSearched: number | null = null;
    for (let k = 0; k < repeat; k++) {
      let t = performance.now();
      matched = (await searchBefore(path, q)).matched;
      before.push(performance.now() - t);
      t = performance.now();
      const after = await searchAfter(path, q, report.sink.blocks);
      first.push(after.firstRequestMs);
      until.push(after.untilShownMs);
      requests = after.requests;
      firstSearched = after.firstSearched;
      if (after.requests > 1) untilNoSeek.push((await searchAfter(path, q, undefined)).untilShownMs);
    }
    console.log(
      JSON.stringify({
        needle: q,
        kind: label,
        matches: matched,
        before_first_page_ms: Math.round(median(before)),
        after_first_response_ms: Math.round(median(first)),
        // rows the first response had looked at when it answered (null: the whole version)
        after_first_response_searched_rows: firstSearched,
        after_until_a_match_is_shown_ms: Math.round(median(until)),
        after_requests: requests,
        ...(untilNoSeek.length > 0
          ? { after_until_shown_without_seek_points_ms: Math.round(median(untilNoSeek)) }
          : {}),
      }),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
