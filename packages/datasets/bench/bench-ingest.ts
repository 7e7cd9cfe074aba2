/**
 * npm run bench:datasets — generates a 250k-row Magpie-shaped JSONL (~1 GB, long <think>
 * traces), ingests it with token statistics into a filesystem RowSink, prints progress, and
 * ends with one JSON line: {"mb_per_s", "rows_per_s", "peak_rss_mb"}. BENCH_ROWS overrides the
 * row count. Peak RSS is the process's maximum (generation included).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_TEMPLATES } from "@distillery/core";
import { createFsRowSink } from "../src/fs-row-sink.ts";
import { ingestDataset } from "../src/ingest-dataset.ts";
import { createTinyTokenizer } from "../src/test-fixtures/create-tiny-tokenizer.ts";
import { createTokenCounter } from "../src/token-counter.ts";
import { createTokenStats } from "../src/token-stats.ts";
import { createRng, makeMagpieRow, writeMagpieJsonl } from "./generate-magpie.ts";

const rows = Number(process.env.BENCH_ROWS ?? 250_000);
const dir = await mkdtemp(join(tmpdir(), "distillery-bench-"));
try {
  const input = join(dir, "magpie.jsonl");
  let t = performance.now();
  const bytes = await writeMagpieJsonl(input, rows);
  console.log(
    `generated ${rows} rows, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const rnd = createRng(99);
  const corpus = Array.from({ length: 200 }, (_, i) => makeMagpieRow(rnd, i)).join("\n");
  const counter = createTokenCounter(createTinyTokenizer(corpus, 800));
  const stats = createTokenStats({ counter, template: BUILTIN_TEMPLATES.phi3, maxLength: 2048 });
  console.log(`tokenizer: byte-level BPE, 800 merges, ${counter.path} path`);

  t = performance.now();
  let lastLog = t;
  const report = await ingestDataset({
    source: { path: input },
    sink: createFsRowSink({ dir: join(dir, "version") }),
    policy: "reject",
    onRow: process.env.BENCH_NO_STATS ? undefined : (e) => stats.add(e),
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastLog < 2000) return;
      lastLog = now;
      const s = (now - t) / 1000;
      console.log(
        `  ${p.rows} rows, ${(p.bytesRead / 1e6).toFixed(0)} MB, ${(p.bytesRead / 1e6 / s).toFixed(1)} MB/s`,
      );
    },
  });
  const seconds = (performance.now() - t) / 1000;
  const s = stats.result();
  console.log(
    `ingested ${report.rows} rows (${report.shape}) in ${seconds.toFixed(1)} s; version ${(report.sink.bytes / 1e6).toFixed(0)} MB gz; ` +
      `total tokens p50 ${s.histograms.total.p50} p99 ${s.histograms.total.p99}, truncated at ${s.maxLength}: ${s.truncated}`,
  );
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      mb_per_s: Number((bytes / 1e6 / seconds).toFixed(1)),
      rows_per_s: Math.round(report.rows / seconds),
      peak_rss_mb: Math.round(peak),
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
