import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import type { CanonicalExample } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import { createDb, createRun, type Db, ensureDefaultWorkspace } from "@distillery/db";
import { buildDemoPlan, createBaseRunConfig, createDistillRunConfig, DEMO_MODEL_IDS } from "@distillery/demo";
import { createProducer, createRedisConnection, type Producer, runQueueFor } from "@distillery/jobs";
import { type BlobStore, createBlobStore, ZS3Env } from "@distillery/storage";
import { generateDemoTraces } from "./seed-demo-teacher.ts";

export const DEMO_DATASETS = {
  direct: "demo · arithmetic, direct answers (base student)",
  traces: "demo · arithmetic, R1-style teacher traces",
  heldout: "demo · arithmetic, held-out problems",
} as const;

export interface SeededDemo {
  isNew: boolean;
  baseRunId: string;
  distillRunId: string;
}

/** Copies a version file written by the demo plan into the catalog (blob storage + a row). */
async function importVersion(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  name: string,
  rowsPath: string,
  description: string,
) {
  const ds = await ensureDataset(db, { workspaceId, name, description });
  return createDatasetVersion(db, store, {
    workspaceId,
    datasetId: ds.id,
    operation: { kind: "demo", source: "built-in programmatic teacher (packages/demo)" },
    schema: { template: "phi3" },
    write: async (sink) => {
      let batch: CanonicalExample[] = [];
      for await (const row of readVersionRows(rowsPath)) {
        batch.push(row);
        if (batch.length === 1000) {
          await sink.write(batch);
          batch = [];
        }
      }
      await sink.write(batch);
      return {};
    },
  });
}

/**
 * The newcomer's demo, through the studio's own parts: the demo plan (packages/demo) writes the
 * task's datasets and an untrained tiny student; they enter the catalog like any upload; then
 * two runs go into the team queue — the base student learning to answer directly (registered
 * as a model when it ends), and, waiting on it, the LoRA distillation on the teacher's traces,
 * which evaluates the student before and after on the held-out problems. Seeds once per
 * workspace; a second call returns the existing runs.
 */
export async function seedDemo(options: {
  db: Db;
  store: BlobStore;
  producer: Producer;
  workDir: string;
  log?: (m: string) => void;
}): Promise<SeededDemo> {
  const { db, store, producer } = options;
  const log = options.log ?? (() => {});
  const actor = await ensureDefaultWorkspace(db);
  const existing = await db.dataset.findFirst({
    where: { workspaceId: actor.workspaceId, name: DEMO_DATASETS.traces },
  });
  if (existing) {
    const runs = await db.run.findMany({
      where: { workspaceId: actor.workspaceId, name: { startsWith: "Tiny reasoning demo" } },
      orderBy: { createdAt: "asc" },
    });
    const base = runs.find((r) => r.dependsOnRunId === null);
    const distill = runs.find((r) => r.dependsOnRunId !== null);
    if (base && distill) return { isNew: false, baseRunId: base.id, distillRunId: distill.id };
  }
  log("[demo] writing the demo's datasets and its untrained student…");
  const plan = await buildDemoPlan(options.workDir, { seed: 1 });
  const init = await registerModelDir(db, store, {
    workspaceId: actor.workspaceId,
    name: DEMO_MODEL_IDS.init,
    dir: plan.studentInit.dir,
    engines: ["local"],
  });
  const direct = await importVersion(
    db,
    store,
    actor.workspaceId,
    DEMO_DATASETS.direct,
    plan.datasets.direct.location,
    "Arithmetic answered directly, without reasoning: what the base student learns.",
  );
  // the traces come from the demo's teacher through a generation job (scripts/stack/seed-demo-teacher.ts)
  const traces = await generateDemoTraces({
    db,
    store,
    workspaceId: actor.workspaceId,
    createdById: actor.userId,
    problemsPath: plan.datasets.traces.location,
    datasetName: DEMO_DATASETS.traces,
    log,
  });
  const heldout = await importVersion(
    db,
    store,
    actor.workspaceId,
    DEMO_DATASETS.heldout,
    plan.datasets.heldout.location,
    "Problems neither run trains on, with reference answers: accuracy before vs after.",
  );

  const baseConfig = {
    ...createBaseRunConfig({
      modelId: DEMO_MODEL_IDS.init,
      trainVersionId: direct.id,
      heldoutVersionId: heldout.id,
    }),
    output: { registerModelAs: DEMO_MODEL_IDS.base },
  };
  const distillConfig = createDistillRunConfig({
    modelId: DEMO_MODEL_IDS.base,
    trainVersionId: traces.id,
    heldoutVersionId: heldout.id,
  });
  const base = await createRun(db, {
    workspaceId: actor.workspaceId,
    name: baseConfig.name ?? "Tiny reasoning demo — base student",
    engine: baseConfig.engine,
    config: baseConfig,
    modelId: init.id,
    datasetVersionId: direct.id,
    launchedById: actor.userId,
  });
  const distill = await createRun(db, {
    workspaceId: actor.workspaceId,
    name: distillConfig.name ?? "Tiny reasoning demo — distillation",
    engine: distillConfig.engine,
    config: distillConfig,
    datasetVersionId: traces.id,
    launchedById: actor.userId,
    dependsOnRunId: base.id,
  });
  // the distillation waits for the base run; the worker enqueues it again when that succeeds
  for (const run of [base, distill])
    await producer.enqueue(
      runQueueFor("local"),
      { runId: run.id, workspaceId: actor.workspaceId },
      { jobId: run.id },
    );
  log(`[demo] queued the base student run ${base.id} and the distillation run ${distill.id}`);
  return { isNew: true, baseRunId: base.id, distillRunId: distill.id };
}

/** seedDemo with its own short-lived connections (the stack scripts hold none of their own). */
export async function seedDemoAt(
  urls: { databaseUrl: string; redisUrl: string; dataDir: string; queuePrefix?: string },
  log?: (m: string) => void,
) {
  const db = createDb(urls.databaseUrl, { max: 2 });
  const redis = createRedisConnection(urls.redisUrl, "worker");
  const producer = createProducer(redis, urls.queuePrefix ?? "distillery");
  try {
    const store = createBlobStore({ ...ZS3Env.parse(process.env), blobDir: join(urls.dataDir, "blobs") });
    return await seedDemo({ db, store, producer, workDir: join(urls.dataDir, "demo"), log });
  } finally {
    await producer.close();
    redis.disconnect();
    await db.$disconnect();
  }
}
