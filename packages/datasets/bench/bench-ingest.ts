/**
 * npm run bench:datasets — generates a 250k-row Magpie-shaped JSONL (~1 GB, long <think>
 * traces) in a child process, ingests it with token statistics (on a worker thread) into a
 * filesystem RowSink, prints progress, and ends with one JSON line:
 * {"mb_per_s", "rows_per_s", "peak_rss_mb"}. BENCH_ROWS overrides the row count;
 * BENCH_INLINE_STATS=1 counts tokens on the ingest thread instead; BENCH_TOKENIZER=sentencepiece
 * uses a Phi-3/Llama-2 style tokenizer instead of a byte-level (GPT-2 style) one.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILTIN_TEMPLATES } from "@distillery/core";
import { createFsRowSink } from "../src/fs-row-sink.ts";
import { ingestDataset } from "../src/ingest-dataset.ts";
import { createParallelTokenStats } from "../src/parallel-token-stats.ts";
import { createTokenCounter } from "../src/token-counter.ts";
import { createTokenStats } from "../src/token-stats.ts";

const rows = Number(process.env.BENCH_ROWS ?? 250_000);
const mb = (n: number) => (n / 1048576).toFixed(0);
const dir = await mkdtemp(join(tmpdir(), "distillery-bench-"));
try {
  const generator = fileURLToPath(new URL("./generate-bench-data.ts", import.meta.url));
  execFileSync(process.execPath, ["--import", "tsx", generator, dir, String(rows)], { stdio: "inherit" });
  const input = join(dir, "magpie.jsonl");
  const bytes = (await stat(input)).size;
  const tokenizerJson = JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8"));
  const template = BUILTIN_TEMPLATES.phi3;
  const parallel = process.env.BENCH_INLINE_STATS !== "1";
  const inline = parallel
    ? undefined
    : createTokenStats({ counter: createTokenCounter(tokenizerJson), template, maxLength: 2048 });
  const worker = parallel
    ? createParallelTokenStats({ tokenizerJson, template, maxLength: 2048 })
    : undefined;
  const family =
    process.env.BENCH_TOKENIZER === "sentencepiece" ? "SentencePiece-style BPE" : "byte-level BPE";
  console.log(
    `tokenizer: ${family} (800 merges); statistics ${parallel ? "on a worker thread" : "inline"}; template phi3`,
  );

  const cpuBefore = process.cpuUsage();
  const t = performance.now();
  let lastLog = t;
  const report = await ingestDataset({
    source: { path: input },
    sink: createFsRowSink({ dir: join(dir, "version") }),
    policy: "reject",
    onRow: (e) => (worker ? worker.add(e) : inline?.add(e)),
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastLog < 2000) return;
      lastLog = now;
      const s = (now - t) / 1000;
      const m = process.memoryUsage();
      console.log(
        `  ${p.rows} rows, ${(p.bytesRead / 1e6).toFixed(0)} MB, ${(p.bytesRead / 1e6 / s).toFixed(1)} MB/s ` +
          `(rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, buffers ${mb(m.arrayBuffers)} MB)`,
      );
    },
  });
  const s = worker ? await worker.result() : (inline as NonNullable<typeof inline>).result();
  await worker?.close();
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `ingested ${report.rows} rows (${report.shape}) in ${seconds.toFixed(1)} s; version ${(report.sink.bytes / 1e6).toFixed(0)} MB gz; ` +
      `total tokens p50 ${s.histograms.total.p50} p99 ${s.histograms.total.p99}; think ok ${s.think.ok}; truncated at ${s.maxLength}: ${s.truncated}`,
  );
  // CPU time of all threads (ingest, statistics worker, zlib): on a shared machine wall-clock
  // speed depends on what else runs; this does not
  console.log(
    `cpu ${cpuSeconds.toFixed(1)} s (all threads) for ${(bytes / 1e6).toFixed(0)} MB on ${availableParallelism()} cores: ` +
      `${(bytes / 1e6 / cpuSeconds).toFixed(1)} MB per CPU-second; load average ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log(
    JSON.stringify({
      mb_per_s: Number((bytes / 1e6 / seconds).toFixed(1)),
      rows_per_s: Math.round(report.rows / seconds),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
