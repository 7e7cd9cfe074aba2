/**
 * bench:teacher — the generation loop against a local endpoint that answers each request after
 * a fixed 200 ms and streams 200 tokens (SSE, reasoning_content), at concurrency 64. The
 * endpoint runs in its own process. Rows go to memory, or with BENCH_DB=<admin url> to Postgres
 * as the worker stores them. Last line:
 *   {"requests_per_s", "bound_per_s", "efficiency", "p95_overhead_ms"}
 * bound = concurrency / latency; overhead = a request's wall time in the loop − 200 ms.
 */
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type GeneratedRow, runGeneration } from "../src/generation/run-generation.ts";
import { ZSampling } from "../src/teacher-endpoint.ts";

const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LATENCY_MS = 200;
const TOKENS = 200;

const cli = fileURLToPath(new URL("../src/testing/fake-teacher-cli.ts", import.meta.url));
const child = spawn(
  process.execPath,
  ["--import", "tsx", cli, "--delay-ms", String(LATENCY_MS), "--tokens", String(TOKENS)],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const first = await new Promise<string>((resolve, reject) => {
  const rl = createInterface({ input: child.stdout });
  rl.once("line", resolve);
  child.once("exit", (code) => reject(new Error(`fake teacher exited (${code})`)));
});
const { baseUrl } = JSON.parse(first) as { baseUrl: string };

const prompts = Array.from({ length: PROMPTS }, (_, i) => ({
  index: i,
  prompt: `What is ${i} + ${i + 7}?`,
  reference: String(2 * i + 7),
}));
const rows: GeneratedRow[] = [];
// BENCH_DB=<admin url> (or BENCH_DB=1 with TEST_ADMIN_DATABASE_URL): rows go to Postgres as the
// worker stores them (one idempotent insert per row), in a throwaway database
let persistRow = async (_r: GeneratedRow) => {};
let dropDb = async () => {};
if (process.env.BENCH_DB) {
  const { createTestDatabase } = await import("@distillery/db/testing");
  const { ensureDefaultWorkspace } = await import("@distillery/db");
  const { createGenerationJob, createRowBatcher, insertGenerationRows } = await import(
    "../src/store/generation-jobs.ts"
  );
  const admin =
    process.env.BENCH_DB === "1" ? (process.env.TEST_ADMIN_DATABASE_URL ?? "") : process.env.BENCH_DB;
  const t = await createTestDatabase(admin);
  dropDb = t.drop;
  const { workspaceId } = await ensureDefaultWorkspace(t.db);
  const job = await createGenerationJob(t.db, {
    workspaceId,
    name: "bench",
    teacherId: null as unknown as string,
    config: {},
    total: PROMPTS,
  });
  const batcher = createRowBatcher<{ row: GeneratedRow; prompt: string | null }>((rs) =>
    insertGenerationRows(t.db, job.id, rs),
  );
  persistRow = (r) => batcher.add({ row: r, prompt: null });
}
const endpoint = { name: "bench", baseUrl, api: "openai" as const, model: "fake-r1" };
const sampling = ZSampling.parse({ maxTokens: 512 });
// warm the connection pool and the JIT (not measured)
await runGeneration({
  endpoint,
  sampling,
  prompts: prompts.slice(0, CONCURRENCY),
  samplesPerPrompt: 1,
  concurrency: CONCURRENCY,
  persist: async () => {},
});

const started = performance.now();
const cpuBefore = process.cpuUsage();
const counters = await runGeneration({
  endpoint,
  sampling,
  prompts,
  samplesPerPrompt: 1,
  concurrency: CONCURRENCY,
  persist: async (r) => {
    await persistRow(r);
    rows.push(r);
  },
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / PROMPTS;
child.kill("SIGTERM");
await dropDb();

const overheads = rows.map((r) => r.wallMs - LATENCY_MS).sort((a, b) => a - b);
const p = (q: number) => overheads[Math.min(overheads.length - 1, Math.floor(q * overheads.length))] ?? 0;
const tokens = rows.reduce((s, r) => s + (r.completion?.usage.completionTokens ?? 0), 0);
const requestsPerS = rows.length / seconds;
const boundPerS = CONCURRENCY / (LATENCY_MS / 1000);
console.log(
  `${rows.length} requests in ${seconds.toFixed(2)} s, ${counters.accepted} verified, ${counters.failed} failed, ` +
    `${Math.round(tokens / seconds)} tokens/s streamed; overhead p50 ${p(0.5).toFixed(2)} ms, p95 ${p(0.95).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms; ` +
    `${process.env.BENCH_DB ? "rows stored in Postgres; " : ""}the loop's CPU ${cpuMsPerRequest.toFixed(2)} ms a request (load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`,
);
console.log(
  JSON.stringify({
    requests_per_s: Math.round(requestsPerS * 10) / 10,
    bound_per_s: boundPerS,
    efficiency: Math.round((requestsPerS / boundPerS) * 1000) / 1000,
    p95_overhead_ms: Math.round(p(0.95) * 100) / 100,
  }),
);
