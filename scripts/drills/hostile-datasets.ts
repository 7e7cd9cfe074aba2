/**
 * `npx tsx scripts/drills/hostile-datasets.ts [--no-build | --web-snapshot]`: a suite of hostile dataset files
 * sent through the real upload route of the real stack (embedded PostgreSQL, redis-server, the
 * built web, the worker). Each file must be refused with a 4xx naming the problem, or, once
 * uploaded, its import (policy "reject") must end `failed` naming the problem; no dataset version
 * may exist afterwards, and no upload may be left behind. /api/health is asked every 100 ms
 * throughout (the slowest answer is printed, not asserted: figures, not a test), with the web's
 * RSS before and after. Exits 1 when a check fails.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { createDb, runMigrations } from "@distillery/db";
import {
  createSupervisor,
  ensureDatabase,
  findFreePort,
  startEmbeddedPostgres,
  startRedis,
} from "@distillery/services";
import { type Hostile, hostileFiles } from "../../packages/datasets/src/test-fixtures/hostile-files.ts";
import { buildWeb, hasWebBuild, ROOT, snapshotWebBuild, startWebApp, startWorker } from "../stack/apps.ts";

const args = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

/** Asks /api/health every 100 ms; the slowest answer and the count of answers over 1 s. */
function probeHealth(url: string) {
  const stats = { asked: 0, answered: 0, failed: 0, slowestMs: 0, over1s: 0 };
  let isOn = true;
  const loop = (async () => {
    while (isOn) {
      const t0 = performance.now();
      stats.asked++;
      try {
        const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        stats.answered++;
      } catch {
        stats.failed++;
      }
      const ms = Math.round(performance.now() - t0);
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      if (ms > 1000) stats.over1s++;
      await sleep(100);
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

function rssMbOfGroup(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue;
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
      // gone
    }
  }
  return Math.round(total);
}

function findWebPid(url: string): number | undefined {
  const port = new URL(url).port;
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes("next") && cmd.includes("start") && cmd.includes(port)) return Number(pid);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** Every API route with an id in its path, and the methods its file exports. */
function routesWithIds(): { path: string; methods: string[] }[] {
  const apiDir = join(ROOT, "apps/web/app/api");
  return readdirSync(apiDir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith("route.ts") && f.includes("["))
    .map((f) => ({
      path: `/api/${relative(apiDir, join(apiDir, f)).replace(/\/?route\.ts$/, "")}`,
      methods: [
        ...readFileSync(join(apiDir, f), "utf8").matchAll(
          /export (?:const|async function) (GET|POST|PUT|PATCH|DELETE)\b/g,
        ),
      ].map((m) => m[1] as string),
    }));
}

/** Odd ids (NUL, traversal, invalid UTF-8, 4 KiB) in every id of every route: never a 5xx. */
async function probeOddIds(url: string) {
  const ids = ["%00", "run%00x", "..%2F..%2Fetc%2Fpasswd", "%FF%FE", "x".repeat(4096)];
  const statuses: Record<string, number> = {};
  const errors: string[] = [];
  const failedById: Record<string, number> = {};
  for (const route of routesWithIds())
    for (const method of route.methods)
      for (const id of ids) {
        const path = route.path.replace(/\[(?:\.\.\.)?[^\]]+\]/g, id);
        const res = await fetch(`${url}${path}`, {
          method,
          ...(method === "GET" ? {} : { headers: { "content-type": "application/json" }, body: "{}" }),
          signal: AbortSignal.timeout(10_000),
          redirect: "manual",
        }).catch((e: Error) => ({ status: 0, statusText: e.message, body: null }));
        let text = "";
        if (res.status >= 500) text = await (res as Response).text().catch(() => "");
        else await (res as Response).body?.cancel().catch(() => {});
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 0 || res.status >= 500) {
          failedById[id.slice(0, 24)] = (failedById[id.slice(0, 24)] ?? 0) + 1;
          errors.push(`${method} ${route.path} with ${id.slice(0, 24)}: ${res.status} ${text.slice(0, 120)}`);
        }
      }
  return { statuses, errors, failedById };
}

async function runFile(url: string, f: Hostile, i: number) {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/datasets/uploads?fileName=${encodeURIComponent(f.fileName)}`, {
    method: "POST",
    body: f.body,
  });
  const body = (await res.json().catch(() => ({}))) as {
    detail?: string;
    uploadId?: string;
    fileName?: string;
    preview?: { detected?: { mapping?: unknown } | null };
  };
  if (res.status >= 400) {
    return { outcome: `${res.status}`, text: body.detail ?? "", ms: Math.round(performance.now() - t0) };
  }
  const imp = await fetch(`${url}/api/datasets/imports`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      datasetName: `hostile-${i}`,
      policy: "reject",
      source: { kind: "upload", uploadId: body.uploadId, fileName: body.fileName },
      ...(body.preview?.detected?.mapping ? { mapping: body.preview.detected.mapping } : {}),
    }),
  });
  const started = (await imp.json()) as { jobId?: string; detail?: string };
  if (!started.jobId) return { outcome: `import ${imp.status}`, text: started.detail ?? "", ms: 0 };
  for (;;) {
    const job = (await (await fetch(`${url}/api/datasets/jobs/${started.jobId}`)).json()) as {
      job: { status: string; error: string | null };
    };
    if (!["queued", "active"].includes(job.job.status))
      return {
        outcome: `job ${job.job.status}`,
        text: job.job.error ?? "",
        ms: Math.round(performance.now() - t0),
      };
    await sleep(150);
  }
}

async function main(): Promise<number> {
  mkdirSync(join(ROOT, ".data"), { recursive: true });
  const dataDir = mkdtempSync(join(ROOT, ".data", "hostile-"));
  // the web's error lines are kept: a 5xx is explained by them
  const webErrors: string[] = [];
  const supervisor = createSupervisor((m) => {
    if (/^\[web\]/.test(m) && !/^\[web\]\s*\{"level":(10|20|30)/.test(m) && webErrors.length < 200)
      webErrors.push(m);
  });
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
    const redis = await startRedis({
      dataDir: join(dataDir, "redis"),
      port: await findFreePort(),
      persistent: false,
    });
    supervisor.add("redis", async () => redis.stop());
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      DISTILLERY_DATA_DIR: join(dataDir, "app"),
      QUEUE_PREFIX: "hostile",
      HF_ENGINE: "0",
      DISTILLERY_SEED_DEMO: "0",
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
    startWorker(supervisor, env);
    const { url, app: web } = await startWebApp(supervisor, env, await findFreePort(), webDir);
    const files = hostileFiles();
    console.log(`[hostile] stack up at ${url}; ${files.length} hostile files`);
    // the web runs in its own process group (the supervisor's child leads it)
    const webPid = web.child.pid ?? findWebPid(url);
    await fetch(`${url}/api/health`);
    const rssBefore = webPid ? rssMbOfGroup(webPid) : 0;
    const health = probeHealth(url);
    const rows: { name: string; outcome: string; text: string; ms: number }[] = [];
    for (const [i, f] of args.includes("--odd-ids-only") ? [] : files.entries()) {
      const r = await runFile(url, f, i);
      rows.push({ name: f.name, ...r });
      const isRefused = /^4\d\d$/.test(r.outcome) || r.outcome === "job failed";
      const hasNoInternals = !/\/(work|tmp|home|root)\/|prisma|at .*\(|stack|SELECT|INSERT/i.test(r.text);
      check(
        isRefused && f.expect.test(r.text) && hasNoInternals,
        `${f.name}: ${r.outcome} (${r.ms} ms) — ${r.text.slice(0, 160)}`,
      );
    }
    const odd = await probeOddIds(url);
    const oddCount = Object.values(odd.statuses).reduce((a, b) => a + b, 0);
    check(
      odd.errors.length === 0,
      `${oddCount} requests with odd ids (NUL, traversal, invalid UTF-8, 4 KiB) in every route: ${JSON.stringify(odd.statuses)}${odd.errors.length ? ` — ${odd.errors.slice(0, 5).join("; ")}` : ""}`,
    );
    figures.oddIds = { statuses: odd.statuses, failedById: odd.failedById };
    await health.stop();
    const rssAfter = webPid ? rssMbOfGroup(webPid) : 0;
    const db = createDb(databaseUrl);
    const versions = await db.datasetVersion.count();
    const uploadsLeft = await db.datasetUpload.count({
      where: { status: { in: ["receiving", "received", "importing"] } },
    });
    const blobRoot = join(dataDir, "app", "blobs");
    const blobsLeft = (() => {
      try {
        return readdirSync(blobRoot, { recursive: true, withFileTypes: true })
          .filter((d) => d.isFile())
          .map((d) => join(d.parentPath, d.name).slice(blobRoot.length + 1))
          .filter((p) => /^(uploads|datasets)\//.test(p));
      } catch {
        return [] as string[];
      }
    })();
    await db.$disconnect();
    check(versions === 0, `no dataset version exists (${versions})`);
    check(uploadsLeft === 0, `no upload is left receiving/received/importing (${uploadsLeft})`);
    figures.files = files.length;
    figures.refused4xx = rows.filter((r) => /^4\d\d$/.test(r.outcome)).length;
    figures.failedJobs = rows.filter((r) => r.outcome === "job failed").length;
    figures.health = health.stats;
    figures.webRssMb = { before: rssBefore, after: rssAfter };
    figures.blobFilesLeft = blobsLeft;
    check(
      blobsLeft.length === 0,
      `no upload or dataset file is left in blob storage (${blobsLeft.join(", ")})`,
    );
    console.log(
      `[hostile] /api/health: ${health.stats.answered}/${health.stats.asked} answered, slowest ${health.stats.slowestMs} ms, ${health.stats.over1s} over 1 s`,
    );
    console.log(`[hostile] web RSS ${rssBefore} MB before, ${rssAfter} MB after`);
  } catch (e) {
    failures.push((e as Error).message);
    console.log(`[hostile] ${(e as Error).stack}`);
  }
  if (failures.length > 0 && webErrors.length > 0)
    console.log(
      `[hostile] the web's error lines (first of ${webErrors.length}):\n${[...new Set(webErrors)].slice(0, 20).join("\n")}`,
    );
  console.log(JSON.stringify({ figures, failures }));
  await supervisor.stopAll(failures.length > 0 ? 1 : 0);
  const code = await stopped;
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(join(ROOT, ".data", `drill-web-${process.pid}`), { recursive: true, force: true });
  return code;
}

main().then((code) => process.exit(code));
