import { rmSync } from "node:fs";
import { join } from "node:path";
import { createDb, listRunEvents, runMigrations } from "@distillery/db";
import { createSupervisor, startServices } from "@distillery/services";
import { ensurePrismaClient } from "../ensure-install.mjs";
import { ROOT, startWorker } from "./apps.ts";
import { seedDemoAt } from "./seed-demo.ts";

/**
 * `npm run demo`: the newcomer's demo headless. Services start as `npm start` starts them
 * (embedded, here throwaway), one worker trains; the same seeding queues the base student and
 * the distillation. Ends with one JSON line: base vs distilled accuracy on the held-out set.
 */
async function main(): Promise<number> {
  const started = Date.now();
  const log = (m: string) => console.log(m);
  const supervisor = createSupervisor(log);
  const stopped = supervisor.waitUntilStopped();
  const dataDir = join(ROOT, ".data", `demo-${process.pid}`);
  let code = 1;
  try {
    // generated only when missing or older than the schema (as `npm run demo`'s ensure-then
    // already checked): a forced `prisma generate` cost 6-15 s of every demo
    ensurePrismaClient(ROOT);
    const urls = await startServices({ dataDir, supervisor, isEphemeral: true, log: () => {} });
    await runMigrations(urls.databaseUrl, join(ROOT, "prisma/migrations"));
    const seeded = await seedDemoAt({ ...urls, dataDir }, log);
    startWorker(supervisor, {
      ...process.env,
      DATABASE_URL: urls.databaseUrl,
      REDIS_URL: urls.redisUrl,
      DISTILLERY_DATA_DIR: dataDir,
      HF_ENGINE: "0",
      LOG_LEVEL: "warn",
    });
    const db = createDb(urls.databaseUrl, { max: 2 });
    let lastLine = "";
    for (;;) {
      const runs = await db.run.findMany({ where: { id: { in: [seeded.baseRunId, seeded.distillRunId] } } });
      const base = runs.find((r) => r.id === seeded.baseRunId);
      const distill = runs.find((r) => r.id === seeded.distillRunId);
      const active = distill?.status === "running" ? distill : base;
      const lastMetric = active
        ? (
            await listRunEvents(db, active.id, {
              types: ["metric"],
              afterSeq: Math.max(-1, active.lastSeq - 50),
            })
          ).at(-1)
        : undefined;
      const line = `[demo] ${((Date.now() - started) / 1000).toFixed(0)} s  base: ${base?.status}  distillation: ${distill?.status}${
        lastMetric?.type === "metric"
          ? `  step ${lastMetric.step} ${Object.entries(lastMetric.values)
              .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
              .join(" ")}`
          : ""
      }`;
      if (line !== lastLine) log(line);
      lastLine = line;
      if (distill && ["succeeded", "failed", "cancelled"].includes(distill.status)) {
        const evals = (await listRunEvents(db, distill.id, { types: ["eval"] })).flatMap((e) =>
          e.type === "eval" ? [e] : [],
        );
        const before = evals.find((e) => e.name === "before")?.metrics;
        const after = evals.find((e) => e.name === "after")?.metrics;
        if (distill.status !== "succeeded")
          log(`[demo] the distillation ${distill.status}: ${distill.error ?? ""}`);
        console.log(
          JSON.stringify({
            base_accuracy: before?.accuracy ?? null,
            distilled_accuracy: after?.accuracy ?? null,
            heldout: after?.n ?? before?.n ?? 0,
            wall_s: Math.round((Date.now() - started) / 100) / 10,
          }),
        );
        code = distill.status === "succeeded" ? 0 : 1;
        break;
      }
      if (base && ["failed", "cancelled"].includes(base.status)) {
        log(`[demo] the base run ${base.status}: ${base.error ?? ""}`);
        break;
      }
      // 1 s: the end is seen at most 1 s late (2 s polls added 1 s on average to a ~60 s demo)
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await db.$disconnect();
  } catch (e) {
    log(`[demo] failed: ${(e as Error).stack ?? e}`);
  }
  await supervisor.stopAll(code);
  await stopped;
  rmSync(dataDir, { recursive: true, force: true });
  return code;
}

main().then((code) => process.exit(code));
