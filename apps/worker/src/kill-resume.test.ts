import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import { type CanonicalExample, type EngineEvent, ZRunConfig } from "@distillery/core";
import { createRun, type Db, ensureDefaultWorkspace, listRunEvents } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createProducer, createRedisConnection, createRunEventHub, QUEUES } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "main.ts");
const dataDir = mkdtempSync(join(tmpdir(), "kill-resume-"));
const prefix = `kr${randomBytes(3).toString("hex")}`;
let db: Db;
let url: string;
let drop: () => Promise<void>;
let workspaceId: string;
const children: ChildProcess[] = [];

function startWorker(id: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "",
      DISTILLERY_DATA_DIR: dataDir,
      QUEUE_PREFIX: prefix,
      WORKER_ID: id,
      WORKER_HEARTBEAT_MS: "300",
      RUN_STALE_AFTER_MS: "2000",
      HF_ENGINE: "0",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await drop();
});

describe("a worker killed with kill -9 mid-run", () => {
  it("is replaced: the run resumes from its last checkpoint and its metric series has no gap and no duplicate step", async () => {
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
    const model = await registerModelDir(db, store, { workspaceId, name: "tiny", dir: modelDir });
    const ds = await ensureDataset(db, { workspaceId, name: "sums" });
    const version = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
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
    const totalSteps = 600;
    const config = ZRunConfig.parse({
      engine: "local",
      model: { id: model.id },
      data: { datasetVersionId: version.id, template: "phi3", evalFraction: 0 },
      lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
      training: {
        maxSteps: totalSteps,
        perDeviceBatchSize: 4,
        learningRate: 5e-3,
        loggingSteps: 1,
        evalStrategy: "no",
        saveStrategy: "steps",
        saveSteps: 10,
        maxSeqLength: 64,
      },
      merge: { mergeAndUnload: false },
    });
    const run = await createRun(db, {
      workspaceId,
      name: "kill-9",
      engine: "local",
      config,
      modelId: model.id,
      datasetVersionId: version.id,
    });
    const connection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const producer = createProducer(connection, prefix);
    await producer.enqueue(QUEUES.runsLocal, { runId: run.id, workspaceId }, { jobId: run.id });

    // what a browser connected throughout sees live, by seq
    const subscriber = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "subscriber");
    const hub = createRunEventHub(subscriber, prefix);
    const seenLive = new Map<number, EngineEvent>();
    const reused: number[] = [];
    const unsubscribe = await hub.subscribe(run.id, (e) => {
      const before = seenLive.get(e.seq);
      // a seq must never name two different events
      if (before && JSON.stringify(before) !== JSON.stringify(e)) reused.push(e.seq);
      seenLive.set(e.seq, e);
    });

    const first = startWorker("wkr_first");
    // wait for a checkpoint and some steps past it, then kill the worker without warning
    await expect
      .poll(async () => (await listRunEvents(db, run.id, { types: ["checkpoint"] })).length, {
        timeout: 90_000,
        interval: 200,
      })
      .toBeGreaterThan(0);
    await expect
      .poll(async () => (await db.run.findUniqueOrThrow({ where: { id: run.id } })).lastSeq, {
        timeout: 30_000,
        interval: 100,
      })
      .toBeGreaterThan(20);
    first.kill("SIGKILL");
    const killedAt = await listRunEvents(db, run.id, { types: ["metric"] });
    expect(killedAt.length).toBeLessThan(totalSteps);

    startWorker("wkr_second");
    await expect
      .poll(async () => (await db.run.findUniqueOrThrow({ where: { id: run.id } })).status, {
        timeout: 120_000,
        interval: 300,
      })
      .toBe("succeeded");
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.interruptions).toBe(1);
    expect(row.attempt).toBe(2);
    expect(row.claimedById).toBe("wkr_second");

    const events = await listRunEvents(db, run.id);
    const lossSteps = events.flatMap((e) => (e.type === "metric" && "loss" in e.values ? [e.step] : []));
    expect(lossSteps).toEqual(Array.from({ length: totalSteps }, (_, i) => i + 1));
    // seqs only grow; a gap is the unpersisted tail of the killed worker, never reused
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    for (const e of events) {
      const live = seenLive.get(e.seq);
      if (live) expect(live).toEqual(e);
    }
    await expect.poll(() => Math.max(...seenLive.keys())).toBe(seqs.at(-1));
    expect(reused).toEqual([]);
    unsubscribe();
    subscriber.disconnect();
    expect(events.some((e) => e.type === "log" && e.message.includes("resuming on worker wkr_second"))).toBe(
      true,
    );
    await producer.close();
    connection.disconnect();
  });
});
