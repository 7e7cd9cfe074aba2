/**
 * bench:teacher — the generation loop against a local endpoint that answers each request after
 * a fixed 200 ms and streams 200 tokens (SSE, reasoning_content), at concurrency 64. The
 * endpoint runs in its own process (it does not share the loop's event loop) and reports what it
 * spent per request, so the loop's own overhead is told apart from the endpoint's lateness on a
 * busy machine. Rows go to memory, or with BENCH_DB=<admin url> to Postgres as the worker stores
 * them. Last line:
 *   {"requests_per_s", "bound_per_s", "efficiency", "p95_overhead_ms", …}
 * bound = concurrency / latency. p95_overhead_ms is the loop's own time per request: from its
 * slot being free to the request handed to the OS, plus from the endpoint starting to write the
 * answer to the row stored (both processes stamp process.hrtime, the system's monotonic clock). The endpoint's
 * 200 ms, its lateness and its time to read the request are not in it; the loop's time to read
 * and parse the answer, to verify and store the row, and any wait behind other answers are.
 * p95_overhead_prev_ms is the earlier definition (the request's wall time in the loop, row
 * stored excluded, minus the endpoint's time from its body read to its answer written: it also
 * counted the endpoint's own lag in reading a request); p95_wall_overhead_ms is wall − 200 ms.
 */
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type GeneratedRow, runGeneration } from "../src/generation/run-generation.ts";
import { ZSampling } from "../src/teacher-endpoint.ts";
import type { FakeTeacherTimings } from "../src/testing/fake-teacher-server.ts";

const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LATENCY_MS = 200;
const TOKENS = 200;

const cli = fileURLToPath(new URL("../src/testing/fake-teacher-cli.ts", import.meta.url));
const child = spawn(
  process.execPath,
  ["--import", "tsx", cli, "--delay-ms", String(LATENCY_MS), "--tokens", String(TOKENS), "--record-timings"],
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
/** when each row was stored, by prompt index (process.hrtime in ms: the endpoint's clock) */
const storedAt = new Map<number, number>();
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
const timingsUrl = `${baseUrl.replace(/\/v1$/, "")}/_bench/timings`;
const endpointTimings = async (reset: boolean) =>
  (await (await fetch(`${timingsUrl}${reset ? "?reset" : ""}`)).json()) as FakeTeacherTimings;
// warm the connection pool and the JIT (not measured): a worker runs long jobs, hot
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 1280);
await runGeneration({
  endpoint,
  sampling,
  prompts: Array.from({ length: WARM_UP }, (_, i) => ({
    index: i,
    prompt: `Warm-up: what is ${i} + ${i + 3}?`,
    reference: String(2 * i + 3),
  })),
  samplesPerPrompt: 1,
  concurrency: CONCURRENCY,
  persist: async () => {},
});

const loadBefore = loadavg()[0] ?? 0;
const endpointBefore = await endpointTimings(true);
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
    storedAt.set(r.promptIndex, Number(process.hrtime.bigint()) / 1e6);
    rows.push(r);
  },
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / PROMPTS;
const endpointAfter = await endpointTimings(false);
const loadAfter = loadavg()[0] ?? 0;
child.kill("SIGTERM");
await dropDb();

const endpointCpuMsPerRequest =
  (endpointAfter.cpu.user - endpointBefore.cpu.user + endpointAfter.cpu.system - endpointBefore.cpu.system) /
  1000 /
  PROMPTS;
const endpointMs = new Map(endpointAfter.requests.map((r) => [r.prompt, r]));
const wallOverheads: number[] = [];
const prevOverheads: number[] = [];
const ownOverheads: number[] = [];
const beforeSend: number[] = [];
const afterAnswer: number[] = [];
const late: number[] = [];
for (const r of rows) {
  const e = endpointMs.get(prompts[r.promptIndex]?.prompt ?? "");
  const stored = storedAt.get(r.promptIndex);
  const sentAt = r.completion?.sentAt;
  if (!e || r.tries !== 1 || stored === undefined || sentAt === undefined || r.startedAt === undefined)
    throw new Error(`no timing for row ${r.promptIndex}`);
  const toSend = sentAt - r.startedAt;
  // both on process.hrtime (performance.now() drifts from it by ms a second: not mixed)
  const toStored = stored - e.answeredAt;
  beforeSend.push(toSend);
  afterAnswer.push(toStored);
  ownOverheads.push(toSend + toStored);
  wallOverheads.push(r.wallMs - LATENCY_MS);
  prevOverheads.push(r.wallMs - e.ms);
  late.push(e.ms - LATENCY_MS);
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};
const ms2 = (x: number) => Math.round(x * 100) / 100;
const tokens = rows.reduce((s, r) => s + (r.completion?.usage.completionTokens ?? 0), 0);
const requestsPerS = rows.length / seconds;
const boundPerS = CONCURRENCY / (LATENCY_MS / 1000);
// the work comes in rounds of `concurrency`: a last partial round caps what any loop can reach
const roundsCap = PROMPTS / CONCURRENCY / Math.ceil(PROMPTS / CONCURRENCY);
console.log(
  `${rows.length} requests in ${seconds.toFixed(2)} s, ${counters.accepted} verified, ${counters.failed} failed, ` +
    `${Math.round(tokens / seconds)} tokens/s streamed${process.env.BENCH_DB ? ", rows stored in Postgres" : ""}\n` +
    `  the loop's own overhead p50 ${quantile(ownOverheads, 0.5).toFixed(2)} / p95 ${quantile(ownOverheads, 0.95).toFixed(2)} / p99 ${quantile(ownOverheads, 0.99).toFixed(2)} ms ` +
    `(slot free → sent p50 ${quantile(beforeSend, 0.5).toFixed(2)} / p95 ${quantile(beforeSend, 0.95).toFixed(2)}; answer written → stored p50 ${quantile(afterAnswer, 0.5).toFixed(2)} / p95 ${quantile(afterAnswer, 0.95).toFixed(2)}); ` +
    `earlier definition p50 ${quantile(prevOverheads, 0.5).toFixed(2)} / p95 ${quantile(prevOverheads, 0.95).toFixed(2)} ms; ` +
    `wall − 200 ms p50 ${quantile(wallOverheads, 0.5).toFixed(2)} / p95 ${quantile(wallOverheads, 0.95).toFixed(2)} ms; ` +
    `the endpoint's lateness p50 ${quantile(late, 0.5).toFixed(2)} / p95 ${quantile(late, 0.95).toFixed(2)} ms\n` +
    `  CPU a request: the loop ${cpuMsPerRequest.toFixed(2)} ms (system ${(cpu.system / 1000 / PROMPTS).toFixed(2)}), the endpoint ${endpointCpuMsPerRequest.toFixed(2)} ms; ` +
    `load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on ${cpus().length} cores; ` +
    `efficiency cap from rounds of ${CONCURRENCY}: ${roundsCap.toFixed(3)}`,
);
console.log(
  JSON.stringify({
    requests_per_s: Math.round(requestsPerS * 10) / 10,
    bound_per_s: boundPerS,
    efficiency: Math.round((requestsPerS / boundPerS) * 1000) / 1000,
    p95_overhead_ms: ms2(quantile(ownOverheads, 0.95)),
    p50_overhead_ms: ms2(quantile(ownOverheads, 0.5)),
    p95_overhead_prev_ms: ms2(quantile(prevOverheads, 0.95)),
    p95_wall_overhead_ms: ms2(quantile(wallOverheads, 0.95)),
    endpoint_p95_late_ms: ms2(quantile(late, 0.95)),
    load_avg: Math.round(loadAfter * 10) / 10,
  }),
);
