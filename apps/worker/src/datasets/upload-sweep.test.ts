import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { markUploadReceived, recordUpload, uploadKey } from "@distillery/catalog";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createRedisConnection, JOB_SCHEDULERS, QUEUES } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWorkerEnv } from "../env.ts";
import { createDatasetProcessor } from "./dataset-processor.ts";
import { scheduleUploadSweep, uploadSweepEveryMs } from "./start-dataset-worker.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const store = createFsBlobStore(join(mkdtempSync(join(tmpdir(), "upload-sweep-")), "blobs"));
const prefix = `s${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
});
afterAll(async () => {
  await drop();
});

async function upload(ageHours: number) {
  const id = `up_${randomBytes(8).toString("hex")}`;
  await recordUpload(db, { id, workspaceId, fileName: "traces.jsonl" });
  await store.put(uploadKey(workspaceId, id), "{}\n");
  await markUploadReceived(db, id, 3);
  await db.datasetUpload.update({
    where: { id },
    data: { createdAt: new Date(Date.now() - ageHours * 3_600_000) },
  });
  return { id, key: uploadKey(workspaceId, id) };
}

describe("the upload sweep in the worker", () => {
  it("runs from a BullMQ job scheduler on the datasets queue and deletes uploads past the retention", async () => {
    const old = await upload(3);
    const fresh = await upload(1);
    const connection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const queueConnection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "producer");
    const queue = new Queue(QUEUES.datasets, { connection: queueConnection, prefix });
    const processor = createDatasetProcessor({
      db,
      store,
      workerId: "w-sweep",
      uploadRetentionMs: 2 * 3_600_000,
    });
    const worker = new Worker(QUEUES.datasets, processor, { connection, prefix });
    try {
      await scheduleUploadSweep(queue, 300);
      // upserting again (every worker does at start) keeps one scheduler
      await scheduleUploadSweep(queue, 300);
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual([JOB_SCHEDULERS.datasetUploadSweep]);
      for (let i = 0; ; i++) {
        const { status } = await db.datasetUpload.findUniqueOrThrow({ where: { id: old.id } });
        if (status === "expired") break;
        if (i > 200) throw new Error("the scheduled sweep never ran");
        await sleep(50);
      }
    } finally {
      await queue.removeJobScheduler(JOB_SCHEDULERS.datasetUploadSweep);
      await worker.close();
      await queue.close();
      connection.disconnect();
      queueConnection.disconnect();
    }
    expect(await store.exists(old.key)).toBe(false);
    expect(await store.exists(fresh.key)).toBe(true);
    expect((await db.datasetUpload.findUniqueOrThrow({ where: { id: fresh.id } })).status).toBe("received");
  });

  it("takes its retention from DATASET_UPLOAD_RETENTION_HOURS (24 h by default), validated at start", () => {
    const base = { DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379" };
    expect(parseWorkerEnv(base).DATASET_UPLOAD_RETENTION_HOURS).toBe(24);
    expect(
      parseWorkerEnv({ ...base, DATASET_UPLOAD_RETENTION_HOURS: "0.5" }).DATASET_UPLOAD_RETENTION_HOURS,
    ).toBe(0.5);
    expect(() => parseWorkerEnv({ ...base, DATASET_UPLOAD_RETENTION_HOURS: "0" })).toThrow(
      /DATASET_UPLOAD_RETENTION_HOURS/,
    );
    expect(() => parseWorkerEnv({ ...base, DATASET_UPLOAD_RETENTION_HOURS: "soon" })).toThrow(
      /DATASET_UPLOAD_RETENTION_HOURS/,
    );
    expect(uploadSweepEveryMs(24 * 3_600_000)).toBe(3_600_000);
    expect(uploadSweepEveryMs(60_000)).toBe(60_000);
  });
});
