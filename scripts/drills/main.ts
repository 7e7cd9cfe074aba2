/**
 * `npm run drills -- [--kills N] [--outages 10,70] [--no-build | --web-snapshot]`: fault drills against the real
 * stack (embedded PostgreSQL, redis-server, the built web, the worker, under the supervisor of
 * `npm start`). Prints what happened and one JSON line of figures; exits 1 when a check fails.
 *
 * 1. kill -9 the worker N times mid-run: the supervisor restarts it, the run resumes from its
 *    checkpoint, its loss series ends complete (steps 1..S once each), the web never stops answering.
 * 2. Redis stopped for each outage (seconds) while a run trains, and a run and launched during the
 *    outage: both end succeeded with complete series, each run claimed by one worker at a time
 *    (no double execution), nothing stuck; the log says one line per drop and return.
 * 3. A 300 MB POST /api/runs: 413, and the web's memory before and after.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import type { CanonicalExample } from "@distillery/core";
import { createDb, type Db, ensureDefaultWorkspace, listRunEvents, runMigrations } from "@distillery/db";
import { createTinyModel } from "@distillery/engine-local";
import {
  createSupervisor,
  ensureDatabase,
  findFreePort,
  type RedisHandle,
  startEmbeddedPostgres,
  startRedis,
} from "@distillery/services";
import { createFsBlobStore } from "@distillery/storage";
import { buildWeb, hasWebBuild, ROOT, snapshotWebBuild, startWebApp, startWorker } from "../stack/apps.ts";

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const KILLS = Number(argValue("--kills", "20"));
const OUTAGES = argValue("--outages", "10,70").split(",").filter(Boolean).map(Number);

const lines: string[] = [];
const log = (m: string) => {
  lines.push(m);
  if (!/^\[(web|worker|postgres)\]/.test(m) || /exited|restarting|unreachable|is back|Error/.test(m))
    console.log(m);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

/** Asks /api/health every 200 ms; counts answers that never came (a refused or hung web). */
function probeHealth(url: string) {
  const stats = { asked: 0, answered: 0, failed: 0, slowestMs: 0 };
  let isOn = true;
  const loop = (async () => {
    while (isOn) {
      const t0 = performance.now();
      stats.asked++;
      try {
        await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5_000) });
        stats.answered++;
      } catch {
        stats.failed++;
      }
      stats.slowestMs = Math.max(stats.slowestMs, Math.round(performance.now() - t0));
      await sleep(200);
    }
  })();
  return {
    stats,
    stop: async () => {
      isOn = false;
      await loop;
    },
  };
}

function rssMbOfGroup(pid: number): number {
  // the web's process group: next start and its server
  let total = 0;
  for (const entry of listPids()) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgid !== pid) continue;
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      total += Number(rss?.[1] ?? 0) / 1024;
    } catch {
      // gone
    }
  }
  return Math.round(total);
}
function listPids(): string[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n));
}

async function seed(db: Db, dataDir: string) {
  const { workspaceId } = await ensureDefaultWorkspace(db);
  const store = createFsBlobStore(join(dataDir, "blobs"));
  const modelDir = join(dataDir, "tiny");
  const corpus = Array.from({ length: 40 }, (_, i) => `What is ${i} + 7? ${i} + 7 = ${i + 7}`);
  createTinyModel(modelDir, {
    corpus,
    vocabSize: 300,
    hiddenSize: 32,
    numLayers: 1,
    numHeads: 2,
    maxPositions: 96,
  });
  const model = await registerModelDir(db, store, { workspaceId, name: "drill-tiny", dir: modelDir });
  const ds = await ensureDataset(db, { workspaceId, name: "drill sums" });
  const version = await createDatasetVersion(db, store, {
    workspaceId,
    datasetId: ds.id,
    operation: { kind: "drill" },
    write: async (sink) => {
      const rows: CanonicalExample[] = Array.from({ length: 64 }, (_, i) => ({
        messages: [{ role: "user", content: `What is ${i} + 7?` }],
        reasoning: `${i} + 7 = ${i + 7}`,
        answer: String(i + 7),
        think: "ok",
      }));
      await sink.write(rows);
      return {};
    },
  });
  return { workspaceId, modelId: model.id, versionId: version.id };
}

async function launch(
  url: string,
  seeded: { modelId: string; versionId: string },
  name: string,
  steps: number,
) {
  const res = await fetch(`${url}/api/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      config: {
        name,
        engine: "local",
        model: { id: seeded.modelId },
        data: { datasetVersionId: seeded.versionId, template: "phi3", evalFraction: 0 },
        lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
        training: {
          maxSteps: steps,
          perDeviceBatchSize: 4,
          learningRate: 5e-3,
          loggingSteps: 1,
          evalStrategy: "no",
          saveStrategy: "steps",
          saveSteps: 10,
          maxSeqLength: 64,
        },
        merge: { mergeAndUnload: false },
      },
    }),
  });
  const body = (await res.json()) as { run?: { id: string; status: string }; detail?: string };
  if (!body.run) throw new Error(`launch answered ${res.status}: ${body.detail ?? JSON.stringify(body)}`);
  return { status: res.status, id: body.run.id, runStatus: body.run.status };
}

/** The run's loss steps, in order: complete means exactly 1..steps. */
async function lossSteps(db: Db, runId: string): Promise<number[]> {
  const events = await listRunEvents(db, runId);
  return events.flatMap((e) => (e.type === "metric" && "loss" in e.values ? [e.step ?? -1] : []));
}
const isComplete = (steps: number[], total: number) =>
  steps.length === total && steps.every((s, i) => s === i + 1);

async function main(): Promise<number> {
  const started = Date.now();
  mkdirSync(join(ROOT, ".data"), { recursive: true });
  const dataDir = mkdtempSync(join(ROOT, ".data", "drills-"));
  const supervisor = createSupervisor(log);
  const stopped = supervisor.waitUntilStopped();
  const figures: Record<string, unknown> = {};
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: join(dataDir, "postgres"),
      persistent: false,
      log: () => {},
    });
    supervisor.add("postgres", pg.stop);
    const databaseUrl = await ensureDatabase(pg.adminUrl, "distillery");
    await runMigrations(databaseUrl, join(ROOT, "prisma/migrations"));
    const redisPort = await findFreePort();
    const redisDir = join(dataDir, "redis");
    let redis: RedisHandle | undefined = await startRedis({
      dataDir: redisDir,
      port: redisPort,
      persistent: true,
    });
    supervisor.add("redis", async () => redis?.stop());
    const db = createDb(databaseUrl);
    const seeded = await seed(db, join(dataDir, "app"));
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      DISTILLERY_DATA_DIR: join(dataDir, "app"),
      QUEUE_PREFIX: "drills",
      WORKER_HEARTBEAT_MS: "500",
      WORKER_OFFLINE_AFTER_MS: "3000",
      RUN_STALE_AFTER_MS: "3000",
      QUEUE_SWEEP_EVERY_MS: "1000",
      QUEUE_SWEEP_GRACE_MS: "2000",
      HF_ENGINE: "0",
      LOG_LEVEL: "info",
      // a drill on this machine only: every request is the local owner (no sign-in)
      DISTILLERY_AUTH: "local",
    };
    // --web-snapshot: serve a copy of the current build (no next build, and no build another
    // checkout starts can replace it mid-drill); otherwise build apps/web/.next unless --no-build
    // --web-dir <folder>: serve a build made elsewhere (a folder holding .next, two levels down)
    const webDirArg = args.includes("--web-dir") ? args[args.indexOf("--web-dir") + 1] : undefined;
    const webDir = webDirArg
      ? join(ROOT, webDirArg)
      : args.includes("--web-snapshot")
        ? snapshotWebBuild(join(ROOT, ".data", `drill-web-${process.pid}`))
        : undefined;
    if (!webDir && (!args.includes("--no-build") || !hasWebBuild())) await buildWeb(env);
    const worker = startWorker(supervisor, env);
    const { url, app: web } = await startWebApp(supervisor, env, await findFreePort(), webDir);
    console.log(`[drills] stack up at ${url} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const health = probeHealth(url);

    // 1. kill -9 the worker mid-run
    if (KILLS > 0) {
      const steps = 150 + 40 * KILLS;
      console.log(`\n[drills] kill -9 the worker ${KILLS} times during a ${steps}-step run`);
      const run = await launch(url, seeded, "drill: kill -9", steps);
      const t0 = Date.now();
      let killed = 0;
      for (let k = 1; k <= KILLS; k++) {
        // mid-run: running, and a few steps further than at the last kill
        const from = (await lossSteps(db, run.id)).length;
        const state = await waitFor(`progress before kill ${k}`, 180_000, async () => {
          const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
          if (row.status === "succeeded" || row.status === "failed") return row.status;
          const n = (await lossSteps(db, run.id)).length;
          return row.status === "running" && n >= from + 15 ? "running" : undefined;
        });
        if (state !== "running") break;
        const pid = worker.child.pid;
        if (pid) process.kill(pid, "SIGKILL");
        killed++;
        await waitFor(
          `the worker's restart ${k}`,
          60_000,
          async () => worker.restarts >= k && worker.isRunning(),
        );
      }
      const final = await waitFor("the run to finish", 600_000, async () => {
        const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
        return ["succeeded", "failed", "cancelled"].includes(row.status) ? row : undefined;
      });
      const steps1 = await lossSteps(db, run.id);
      figures.kill = {
        kills: killed,
        steps,
        status: final.status,
        interruptions: final.interruptions,
        attempts: final.attempt,
        lossPoints: steps1.length,
        seconds: Math.round((Date.now() - t0) / 1000),
        workerRestarts: worker.restarts,
      };
      check(killed === KILLS, `the worker was killed ${killed} of ${KILLS} times mid-run`);
      check(
        final.status === "succeeded",
        `the run ended ${final.status}${final.error ? ` (${final.error})` : ""}`,
      );
      check(
        isComplete(steps1, steps),
        `its loss series is steps 1..${steps}, once each (${steps1.length} points)`,
      );
      check(final.interruptions === killed, `interruptions recorded: ${final.interruptions}`);
    }

    // 2. Redis outages
    for (const seconds of OUTAGES) {
      console.log(
        `\n[drills] Redis stopped for ${seconds} s while a run trains; a run launched during the outage`,
      );
      const logMark = lines.length;
      const steps = 400;
      const a = await launch(url, seeded, `drill: redis ${seconds}s (training)`, steps);
      await waitFor("the run to train", 180_000, async () => {
        const row = await db.run.findUniqueOrThrow({ where: { id: a.id } });
        return row.status === "running" && (await lossSteps(db, a.id)).length >= 20;
      });
      await redis?.stop();
      redis = undefined;
      const down = Date.now();
      await sleep(1_000);
      const launchT0 = performance.now();
      const b = await launch(url, seeded, `drill: redis ${seconds}s (launched while down)`, 60).catch(
        (e: Error) => ({ status: 0, id: "", runStatus: e.message }),
      );
      const launchMs = Math.round(performance.now() - launchT0);
      await sleep(Math.max(0, seconds * 1000 - (Date.now() - down)));
      redis = await startRedis({ dataDir: redisDir, port: redisPort, persistent: true });
      console.log(`[drills] Redis back after ${((Date.now() - down) / 1000).toFixed(1)} s`);
      const ids = [a.id, b.id].filter(Boolean);
      const t0 = Date.now();
      const finals = await waitFor("both runs to finish", 600_000, async () => {
        const rows = await db.run.findMany({ where: { id: { in: ids } } });
        return rows.every((r) => ["succeeded", "failed", "cancelled"].includes(r.status)) ? rows : undefined;
      });
      const rowA = finals.find((r) => r.id === a.id);
      const rowB = finals.find((r) => r.id === b.id);
      const stepsA = await lossSteps(db, a.id);
      const stepsB = b.id ? await lossSteps(db, b.id) : [];
      const outageLines = lines.slice(logMark);
      // the outage line names the error code once; any other line naming it is a retry's trace
      const dropLine = /Redis at \S+ is unreachable/;
      const refusedLines = outageLines.filter((l) => /ECONNREFUSED/.test(l) && !dropLine.test(l)).length;
      const perProcess = (app: string, re: RegExp) =>
        outageLines.filter((l) => l.startsWith(`[${app}]`) && re.test(l)).length;
      const dropLines = { web: perProcess("web", dropLine), worker: perProcess("worker", dropLine) };
      const backLines = {
        web: perProcess("web", /Redis at \S+ is back after/),
        worker: perProcess("worker", /Redis at \S+ is back after/),
      };
      figures[`redis${seconds}s`] = {
        launchDuringOutage: { http: b.status, status: b.runStatus, answeredInMs: launchMs },
        training: {
          status: rowA?.status,
          attempts: rowA?.attempt,
          interruptions: rowA?.interruptions,
          points: stepsA.length,
        },
        launched: { status: rowB?.status, attempts: rowB?.attempt, points: stepsB.length },
        secondsToFinishAfterReturn: Math.round((Date.now() - t0) / 1000),
        otherLinesMentioningECONNREFUSED: refusedLines,
        dropLines,
        backLines,
      };
      check(
        b.status === 201 && b.runStatus === "queued",
        `a launch while Redis is down answers ${b.status} ${b.runStatus} in ${launchMs} ms`,
      );
      check(
        rowA?.status === "succeeded" && isComplete(stepsA, steps),
        `the training run ended ${rowA?.status} with ${stepsA.length}/${steps} loss points`,
      );
      check(
        rowB?.status === "succeeded" && isComplete(stepsB, 60),
        `the run launched during the outage ended ${rowB?.status} with ${stepsB.length}/60 loss points`,
      );
      check(
        rowB?.attempt === 1,
        `the run launched during the outage was claimed once (attempts ${rowB?.attempt})`,
      );
      check(refusedLines === 0, `no ECONNREFUSED lines besides the outage lines (${refusedLines})`);
      for (const app of ["web", "worker"] as const)
        check(
          dropLines[app] === 1 && backLines[app] === 1,
          `the ${app} logged ${dropLines[app]} line(s) when Redis dropped and ${backLines[app]} when it returned`,
        );
    }

    // 3. an oversized body
    const webPid = web.child.pid ?? 0;
    const before = rssMbOfGroup(webPid);
    const chunk = new Uint8Array(1 << 20).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 300) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const big = await fetch(`${url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit).catch((e: Error) => ({ status: 0, statusText: e.message }));
    await sleep(1_000);
    const after = rssMbOfGroup(webPid);
    figures.body300MB = {
      http: big.status,
      webRssMbBefore: before,
      webRssMbAfter: after,
      mbSentBeforeAnswer: sent,
    };
    check(big.status === 413, `a 300 MB POST /api/runs answers ${big.status}`);
    check(after - before < 150, `the web's memory grew ${after - before} MB (${before} → ${after} MB)`);

    await health.stop();
    figures.health = health.stats;
    check(
      health.stats.failed === 0,
      `/api/health answered ${health.stats.answered}/${health.stats.asked} (slowest ${health.stats.slowestMs} ms)`,
    );
  } catch (e) {
    failures.push((e as Error).message);
    console.log(`[drills] ${(e as Error).stack}`);
  }
  console.log(JSON.stringify({ figures, failures }));
  await supervisor.stopAll(failures.length > 0 ? 1 : 0);
  const code = await stopped;
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(join(ROOT, ".data", `drill-web-${process.pid}`), { recursive: true, force: true });
  return code;
}

main().then((code) => process.exit(code));
