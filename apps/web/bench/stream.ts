/**
 * `npm run bench:stream`: live-event latency and a long run's page data, over real HTTP.
 *
 * Starts throwaway PostgreSQL + Redis (as `npm test` does) and the built web app (`next start`;
 * built first when the build is missing or older than the sources). Then:
 *  - 10 runs emit metrics through the worker's path (publish to Redis at once, append to
 *    Postgres in batches, as apps/worker/src/runs/event-pipeline.ts does), 50 SSE clients
 *    (5 per run) listen over HTTP; latency = client receive time − the event's `ts` (emit time);
 *  - a finished run with 100k metric points: the time for the run page's data (run detail,
 *    metrics, samples, fetched in parallel as the page does) to arrive.
 * The last line is one JSON object: {"p50_ms", "p95_ms", "runs", "clients", "page_100k_ms"}.
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@distillery/core";
import {
  appendRunEvents,
  claimRun,
  createDb,
  createRun,
  ensureDefaultWorkspace,
  finishRun,
  MIGRATIONS_DIR,
  markRunRunning,
  type RunLease,
  registerWorker,
  runMigrations,
} from "@distillery/db";
import { createRedisConnection, publishRunEvents } from "@distillery/jobs";
import { createSupervisor, findFreePort, startServices } from "@distillery/services";

const RUNS = 10;
const CLIENTS = 50;
const EMIT_EVERY_MS = 50;
const WARMUP_MS = 2_000;
const MEASURE_MS = 15_000;
const BIG_POINTS = 100_000;
const WEB_DIR = join(import.meta.dirname, "..");
const ROOT = join(WEB_DIR, "..", "..");
const log = (m: string) => console.error(m);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === ".next" || e.name === "generated" || e.name.startsWith("."))
      continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function isBuildFresh(): boolean {
  try {
    const built = statSync(join(WEB_DIR, ".next", "BUILD_ID")).mtimeMs;
    const sources = Math.max(
      ...["app", "features", "lib", "components"].map((d) => newestMtime(join(WEB_DIR, d))),
      newestMtime(join(ROOT, "packages")),
    );
    return built > sources;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}`)),
    );
  });
}

async function waitForHttp(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms`);
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** An SSE client over HTTP: calls `onEvent` for each data message; resolves when the stream ends. */
async function listen(
  url: string,
  signal: AbortSignal,
  onEvent: (e: EngineEvent) => void,
  onOpen: () => void,
) {
  const res = await fetch(url, { headers: { accept: "text/event-stream" }, signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
  onOpen();
  const decoder = new TextDecoder();
  let text = "";
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let at = text.indexOf("\n\n");
      while (at !== -1) {
        const block = text.slice(0, at);
        text = text.slice(at + 2);
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (data && !block.includes("event: end")) onEvent(JSON.parse(data.slice(6)) as EngineEvent);
        at = text.indexOf("\n\n");
      }
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}

async function main() {
  const supervisor = createSupervisor(() => {});
  const dataDir = join(tmpdir(), `distillery-bench-stream-${process.pid}`);
  try {
    log("[bench] starting PostgreSQL and Redis…");
    const urls = await startServices({ dataDir, supervisor, isEphemeral: true, log: () => {} });
    await runMigrations(urls.databaseUrl, MIGRATIONS_DIR);
    const env = {
      ...process.env,
      DATABASE_URL: urls.databaseUrl,
      REDIS_URL: urls.redisUrl,
      DISTILLERY_DATA_DIR: join(dataDir, "app"),
      QUEUE_PREFIX: "bench",
      NEXT_TELEMETRY_DISABLED: "1",
    };
    if (!isBuildFresh()) {
      log("[bench] building the web app (next build)…");
      await run(process.execPath, [join(ROOT, "node_modules/next/dist/bin/next"), "build"], env, WEB_DIR);
    }
    const port = await findFreePort();
    supervisor.spawnApp(
      "web",
      process.execPath,
      [join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"],
      { ...env, PORT: String(port) },
      WEB_DIR,
    );
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api/health`, 60_000);
    log(`[bench] web on ${base}`);

    const db = createDb(urls.databaseUrl, { max: 10 });
    const publisher = createRedisConnection(urls.redisUrl, "worker");
    const { workspaceId } = await ensureDefaultWorkspace(db);
    await registerWorker(db, {
      id: "bench-worker",
      workspaceId,
      host: "bench",
      pid: process.pid,
      cpuCount: 2,
      memoryMb: 0,
      gpus: [],
      engines: ["local"],
      capabilities: {},
      version: "bench",
    });

    // --- live latency: 10 runs emitting, 50 clients listening ---
    const leases: RunLease[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await createRun(db, { workspaceId, name: `bench ${i}`, engine: "local", config: {} });
      const lease = await claimRun(db, r.id, "bench-worker");
      if (!lease) throw new Error("claim failed");
      await markRunRunning(db, lease);
      leases.push(lease);
    }
    const latencies: number[] = [];
    let measureFrom = Number.POSITIVE_INFINITY;
    let received = 0;
    const abort = new AbortController();
    let opened = 0;
    const clients = Array.from({ length: CLIENTS }, (_, i) => {
      const lease = leases[i % RUNS] as RunLease;
      return listen(
        `${base}/api/runs/${lease.runId}/events`,
        abort.signal,
        (e) => {
          received++;
          const now = Date.now();
          if (e.type === "metric" && e.ts >= measureFrom) latencies.push(now - e.ts);
        },
        () => opened++,
      );
    });
    while (opened < CLIENTS) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    log(`[bench] ${CLIENTS} SSE clients connected; ${RUNS} runs emitting every ${EMIT_EVERY_MS} ms`);

    // the worker's pipeline: publish each event at once, persist in batches every 250 ms
    const pending = new Map<string, EngineEvent[]>(leases.map((l) => [l.runId, []]));
    const seqs = new Map<string, number>(leases.map((l) => [l.runId, 0]));
    const flush = async () => {
      await Promise.all(
        leases.map(async (l) => {
          const batch = pending.get(l.runId) ?? [];
          pending.set(l.runId, []);
          if (batch.length) await appendRunEvents(db, l, batch);
        }),
      );
    };
    const flusher = setInterval(() => void flush(), 250);
    const emitterTimers: NodeJS.Timeout[] = [];
    const emitters = leases.map((l, i) =>
      setTimeout(
        () => {
          const timer = setInterval(() => {
            const seq = seqs.get(l.runId) ?? 0;
            seqs.set(l.runId, seq + 1);
            const e: EngineEvent = {
              type: "metric",
              runId: l.runId,
              seq,
              ts: Date.now(),
              step: seq,
              values: {
                loss: 2 / (1 + seq / 100),
                learning_rate: 1e-4,
                grad_norm: 1,
                tokens_per_second: 1000,
              },
            };
            pending.get(l.runId)?.push(e);
            void publishRunEvents(publisher, [e], "bench");
          }, EMIT_EVERY_MS);
          emitterTimers.push(timer);
        },
        (i * EMIT_EVERY_MS) / RUNS,
      ),
    );
    setTimeout(() => {
      measureFrom = Date.now();
    }, WARMUP_MS);
    await new Promise((r) => setTimeout(r, WARMUP_MS + MEASURE_MS));
    for (const t of [...emitters, ...emitterTimers]) clearTimeout(t);
    clearInterval(flusher);
    await flush();
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await Promise.allSettled(clients);
    for (const l of leases) await finishRun(db, l, { status: "succeeded" });
    latencies.sort((a, b) => a - b);
    const emitted = [...seqs.values()].reduce((a, b) => a + b, 0);
    log(
      `[bench] emitted ${emitted} events, clients received ${received}; measured ${latencies.length} deliveries`,
    );

    // --- a finished run with 100k metric points ---
    const big = await createRun(db, {
      workspaceId,
      name: "bench 100k",
      engine: "local",
      config: { model: { id: "bench" } },
    });
    const bigLease = await claimRun(db, big.id, "bench-worker");
    if (!bigLease) throw new Error("claim failed");
    await markRunRunning(db, bigLease);
    const t0 = Date.now();
    await db.$executeRaw`
      INSERT INTO "RunEvent" ("workspaceId", "runId", seq, type, step, data)
      SELECT ${workspaceId}, ${big.id}, s, 'metric', s + 1, jsonb_build_object(
        'type', 'metric', 'runId', ${big.id}::text, 'seq', s, 'ts', 1700000000000 + s * 100, 'step', s + 1,
        'values', jsonb_build_object('loss', 2.5 / (1 + s / 5000.0) + 0.05 * sin(s), 'learning_rate', 2e-4 * cos(s / 70000.0),
          'grad_norm', 1 + 0.3 * cos(s / 10.0), 'tokens_per_second', 1800 + (s % 97), 'epoch', s / 33333.0))
      FROM generate_series(0, ${BIG_POINTS - 1}) AS s`;
    await db.$executeRaw`
      INSERT INTO "RunEvent" ("workspaceId", "runId", seq, type, step, data)
      SELECT ${workspaceId}, ${big.id}, ${BIG_POINTS} + s, 'sample', (s + 1) * 1000, jsonb_build_object(
        'type', 'sample', 'runId', ${big.id}::text, 'seq', ${BIG_POINTS} + s, 'ts', 1700000000000, 'step', (s + 1) * 1000,
        'promptIndex', 0, 'prompt', 'What is 47 + 85?', 'output', '<think>7+5=12, carry 1; 4+8+1=13</think> 132')
      FROM generate_series(0, 99) AS s`;
    await db.run.update({ where: { id: big.id }, data: { lastSeq: BIG_POINTS + 99 } });
    await finishRun(db, bigLease, { status: "succeeded", summary: { final: { loss: 0.1 } } });
    log(`[bench] seeded ${BIG_POINTS} metric events in ${Date.now() - t0} ms`);

    const loadPage = async (runId: string) => {
      const started = performance.now();
      const parts = await Promise.all(
        [`/api/runs/${runId}`, `/api/runs/${runId}/metrics`, `/api/runs/${runId}/samples?take=100`].map(
          async (p) => {
            const res = await fetch(`${base}${p}`);
            if (!res.ok) throw new Error(`${p}: HTTP ${res.status}`);
            return res.json();
          },
        ),
      );
      const ms = performance.now() - started;
      return {
        ms,
        metrics: parts[1] as { series: Record<string, unknown[]>; counts: Record<string, number> },
      };
    };
    await loadPage(leases[0]?.runId ?? ""); // route modules loaded; the big run is not touched yet
    const pageTimes: number[] = [];
    let checked = false;
    for (let i = 0; i < 5; i++) {
      const { ms, metrics } = await loadPage(big.id);
      pageTimes.push(ms);
      if (!checked) {
        log(`[bench] 100k run: ${metrics.counts.loss} loss points served as ${metrics.series.loss?.length}`);
        checked = true;
      }
    }
    log(
      `[bench] page data of the 100k-point run: ${pageTimes.map((t) => t.toFixed(0)).join(", ")} ms (first is cold)`,
    );
    const sortedPage = pageTimes.slice(1).sort((a, b) => a - b);

    publisher.disconnect();
    await db.$disconnect();
    const result = {
      p50_ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p95_ms: Number(percentile(latencies, 0.95).toFixed(1)),
      p99_ms: Number(percentile(latencies, 0.99).toFixed(1)),
      max_ms: latencies[latencies.length - 1] ?? null,
      deliveries: latencies.length,
      runs: RUNS,
      clients: CLIENTS,
      // the first load computes the series; later loads of the (finished) run hit the server's cache
      page_100k_ms: Number((pageTimes[0] as number).toFixed(0)),
      page_100k_warm_ms: Number((sortedPage[Math.floor(sortedPage.length / 2)] as number).toFixed(0)),
    };
    await supervisor.stopAll(0);
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (e) {
    log(`[bench] failed: ${(e as Error).stack ?? e}`);
    await supervisor.stopAll(1);
    process.exit(1);
  }
}

void main();
