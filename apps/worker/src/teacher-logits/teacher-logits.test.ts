import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatasetVersion,
  createTeacherLogitsRequest,
  ensureDataset,
  registerModelDir,
  teacherLogitsPrefix,
} from "@distillery/catalog";
import { type CanonicalExample, ZRunConfig } from "@distillery/core";
import { createRun, type Db, listRunEvents } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createRedisConnection } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalLauncher } from "../runs/local-launcher.ts";
import { createRunProcessor } from "../runs/process-run.ts";
import { processTeacherLogits } from "./process-teacher-logits.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "teacher-logits-"));
const store = createFsBlobStore(join(root, "blobs"));
const publisher = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
const example = (a: number, b: number): CanonicalExample => ({
  messages: [{ role: "user", content: `What is ${a} + ${b}?` }],
  reasoning: `${a} + ${b} = ${a + b}`,
  answer: String(a + b),
  think: "ok",
});
const corpus = Array.from(
  { length: 50 },
  (_, i) => `What is ${i} + ${i + 1}? ${i} + ${i + 1} = ${2 * i + 1}`,
);
const deps = () => ({
  db,
  store,
  workerId: "w1",
  cacheDir: join(root, "cache"),
  workDir: join(root, "work"),
  heartbeatMs: 50,
});

let teacherId = "";
let studentId = "";
let versionId = "";

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
  // same corpus and vocabulary size: the same BPE tokenizer; different widths and seeds
  // (<think> tags as special tokens in both, as a reasoning model's tokenizer has them: a run
  // adds them to a tokenizer that lacks them, which would then differ from the artifact's)
  const shape = {
    corpus,
    vocabSize: 300,
    numHeads: 2,
    maxPositions: 128,
    extraSpecialTokens: ["<think>", "</think>"],
  };
  createTinyModel(join(root, "teacher"), { ...shape, hiddenSize: 48, numLayers: 2, seed: 7 });
  createTinyModel(join(root, "student"), { ...shape, hiddenSize: 32, numLayers: 1, seed: 1 });
  teacherId = (
    await registerModelDir(db, store, { workspaceId, name: "tiny-teacher", dir: join(root, "teacher") })
  ).id;
  studentId = (
    await registerModelDir(db, store, { workspaceId, name: "tiny-student", dir: join(root, "student") })
  ).id;
  const ds = await ensureDataset(db, { workspaceId, name: "sums" });
  versionId = (
    await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
      write: async (sink) => {
        await sink.write(Array.from({ length: 16 }, (_, i) => example(i, i + 1)));
        return {};
      },
    })
  ).id;
}, 120_000);
afterAll(async () => {
  await drop();
  publisher.disconnect();
});

const request = () =>
  createTeacherLogitsRequest(db, {
    workspaceId,
    versionId,
    teacherModelId: teacherId,
    teacherName: "tiny-teacher",
    k: 8,
    maxSeqLength: 96,
    template: "phi3",
  });

describe("teacher logits job", () => {
  it("estimates, computes and registers the artifact; a logit run reads it without the teacher", async () => {
    const row = await request();
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "estimate" })).toBe(
      "estimated",
    );
    const estimated = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    const estimate = estimated.estimate as {
      bytes: number;
      seconds: number;
      rows: number;
      positions: number;
    };
    expect(estimated.status).toBe("estimated");
    expect(estimate.rows).toBe(16);
    expect(estimate.bytes).toBeGreaterThan(estimate.positions * 8 * 6);
    expect(estimate.seconds).toBeGreaterThan(0);

    await db.teacherLogits.update({ where: { id: row.id }, data: { status: "queued" } });
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "compute" })).toBe(
      "ready",
    );
    const ready = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    expect(ready).toMatchObject({
      status: "ready",
      k: 8,
      rows: 16,
      positions: estimate.positions,
      attempt: 2,
      blobPrefix: teacherLogitsPrefix(row.id),
      progress: { rowsDone: 16, rows: 16 },
    });
    // the estimate's size is exact
    expect(Number(ready.bytes)).toBe(estimate.bytes);
    expect(ready.tokenizerSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ready.seconds).toBeGreaterThan(0);
    expect((await store.list(`${teacherLogitsPrefix(row.id)}/`)).sort()).toEqual(
      ["manifest.json", "teacher_logits.safetensors", "tokenizer.json"].map(
        (f) => `${teacherLogitsPrefix(row.id)}/${f}`,
      ),
    );

    // the teacher's files are out of reach: a run that reads the stored logits never needs them
    const teacher = await db.model.update({
      where: { id: teacherId },
      data: { location: "blob:models/gone" },
    });
    const config = ZRunConfig.parse({
      engine: "local",
      model: { id: studentId },
      data: { datasetVersionId: versionId, template: "phi3", evalFraction: 0.2 },
      lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
      training: {
        maxSteps: 3,
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 1,
        learningRate: 1e-2,
        loggingSteps: 1,
        evalStrategy: "no",
        saveStrategy: "no",
        maxSeqLength: 96,
      },
      distillation: { mode: "logit", teacher: { modelId: teacherId }, teacherLogits: { artifactId: row.id } },
    });
    const run = await createRun(db, {
      workspaceId,
      name: "logit",
      engine: "local",
      config,
      modelId: studentId,
      datasetVersionId: versionId,
    });
    const processor = createRunProcessor({
      db,
      log: pino({ level: "silent" }),
      workerId: "w1",
      publisher,
      queuePrefix: "t",
      dataDir: join(root, "data"),
      heartbeatMs: 500,
      launchers: new Map([["local", createLocalLauncher({ store, cacheDir: join(root, "cache") })]]),
      store,
      shutdownSignal: new AbortController().signal,
      enqueueRun: async () => {},
    });
    const result = await processor({ data: { runId: run.id, workspaceId } } as unknown as Job);
    const runRow = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(runRow.error).toBeNull();
    expect(result).toEqual({ status: "succeeded" });
    const events = await listRunEvents(db, run.id);
    expect(
      events.some(
        (e) => e.type === "log" && /from stored teacher logits .*the teacher is not run/.test(e.message),
      ),
    ).toBe(true);
    const metrics = events.filter((e) => e.type === "metric");
    expect(metrics.length).toBeGreaterThanOrEqual(3);
    await db.model.update({ where: { id: teacherId }, data: { location: `blob:models/${teacher.id}` } });
  }, 180_000);

  it("a cancel request stops the child and leaves the row cancelled", async () => {
    const row = await request();
    await db.teacherLogits.update({ where: { id: row.id }, data: { status: "queued" } });
    const done = processTeacherLogits(
      // an engine that never finishes: only the cancel can end it
      {
        ...deps(),
        engine: () => ({ command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }),
      },
      { artifactId: row.id, workspaceId, phase: "compute" },
    );
    await expect
      .poll(async () => (await db.teacherLogits.findUnique({ where: { id: row.id } }))?.status)
      .toBe("running");
    await db.teacherLogits.update({ where: { id: row.id }, data: { cancelRequestedAt: new Date() } });
    expect(await done).toBe("cancelled");
    const after = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.status).toBe("cancelled");
    expect(after.blobPrefix).toBeNull();
    // a row that is no longer waiting is not claimed again
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "compute" })).toBe(
      "skipped",
    );
  });

  it("a failing engine leaves the row failed with its reason", async () => {
    const row = await request();
    const outcome = await processTeacherLogits(
      {
        ...deps(),
        engine: () => ({
          command: process.execPath,
          args: ["-e", "console.error('EngineError: teacher too large'); process.exit(3)"],
        }),
      },
      { artifactId: row.id, workspaceId, phase: "estimate" },
    );
    expect(outcome).toBe("failed");
    const after = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    expect(after).toMatchObject({ status: "failed", error: "EngineError: teacher too large" });
  });

  it("a row whose worker stopped heartbeating is claimed again; a live one is not", async () => {
    const failing = {
      ...deps(),
      staleAfterMs: 10_000,
      engine: () => ({ command: process.execPath, args: ["-e", "process.exit(2)"] }),
    };
    const live = await request();
    await db.teacherLogits.update({
      where: { id: live.id },
      data: { status: "running", claimedById: "w0", attempt: 1, heartbeatAt: new Date() },
    });
    expect(await processTeacherLogits(failing, { artifactId: live.id, workspaceId, phase: "compute" })).toBe(
      "skipped",
    );
    await db.teacherLogits.update({
      where: { id: live.id },
      data: { heartbeatAt: new Date(Date.now() - 60_000) },
    });
    expect(await processTeacherLogits(failing, { artifactId: live.id, workspaceId, phase: "compute" })).toBe(
      "failed",
    );
    expect(await db.teacherLogits.findUniqueOrThrow({ where: { id: live.id } })).toMatchObject({
      claimedById: "w1",
      attempt: 2,
      status: "failed",
    });
  });
});
