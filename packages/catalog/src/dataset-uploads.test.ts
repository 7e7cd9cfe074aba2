/// <reference path="../../storage/src/s3rver.d.ts" />
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJob, type Db, ensureDefaultWorkspace, startJob } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { type BlobStore, createFsBlobStore, createS3BlobStore } from "@distillery/storage";
// s3rver: a real S3-protocol server in Node, standing in for MinIO/S3 (which cannot run here)
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimUpload,
  consumeUpload,
  markUploadReceived,
  recordUpload,
  sweepUploads,
  uploadKey,
} from "./dataset-uploads.ts";

const HOUR = 3_600_000;
const RETENTION = 24 * HOUR;

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let s3server: S3rver;
let s3port = 0;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  s3server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: mkdtempSync(join(tmpdir(), "s3rver-")),
    configureBuckets: [{ name: "uploads-test", configs: [] }],
  });
  s3port = ((await s3server.run()) as { port: number }).port;
});
afterAll(async () => {
  await s3server?.close();
  await drop?.();
});

const stores: [string, () => BlobStore][] = [
  ["fs", () => createFsBlobStore(mkdtempSync(join(tmpdir(), "upload-blobs-")))],
  [
    "s3",
    () =>
      createS3BlobStore({
        endpoint: `http://127.0.0.1:${s3port}`,
        region: "us-east-1",
        bucket: "uploads-test",
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        forcePathStyle: true,
        prefix: `t${randomBytes(4).toString("hex")}`,
      }),
  ],
];

/** What POST /api/datasets/uploads leaves: a row, then the blob, then the row marked received. */
async function upload(store: BlobStore, options: { ageHours?: number } = {}) {
  const id = `up_${randomBytes(8).toString("hex")}`;
  await recordUpload(db, { id, workspaceId, fileName: "traces.jsonl" });
  const key = uploadKey(workspaceId, id);
  await store.put(key, '{"instruction":"q","response":"a"}\n');
  await markUploadReceived(db, id, 34);
  if (options.ageHours)
    await db.datasetUpload.update({
      where: { id },
      data: { createdAt: new Date(Date.now() - options.ageHours * HOUR) },
    });
  return { id, key };
}

/** What POST /api/datasets/imports does: the Job row and the upload's hold, in one transaction. */
const startImport = (uploadId: string) =>
  db.$transaction(async (tx) => {
    const job = await createJob(tx, { workspaceId, kind: "dataset-import", input: {} });
    return (await claimUpload(tx, { workspaceId, uploadId, jobId: job.id })) ? job : null;
  });

const statusOf = async (id: string) =>
  (await db.datasetUpload.findUniqueOrThrow({ where: { id }, select: { status: true } })).status;

describe.each(stores)("sweeping uploads (%s store)", (_name, makeStore) => {
  it("deletes an upload never imported once it is older than the retention period; keeps a fresh one", async () => {
    const store = makeStore();
    const old = await upload(store, { ageHours: 25 });
    const fresh = await upload(store, { ageHours: 23 });
    const report = await sweepUploads(db, store, { retentionMs: RETENTION });
    expect(report.expired).toContain(old.id);
    expect(report.expired).not.toContain(fresh.id);
    expect(await store.exists(old.key)).toBe(false);
    expect(await statusOf(old.id)).toBe("expired");
    expect(await store.exists(fresh.key)).toBe(true);
    expect(await statusOf(fresh.id)).toBe("received");
    // the import route's claim fails on an expired upload (it answers 404 "expired")
    expect(await startImport(old.id)).toBeNull();
  });

  it("never sweeps an upload held by a queued or active import; releases it once that job has ended", async () => {
    const store = makeStore();
    const held = await upload(store, { ageHours: 30 });
    const job = await startImport(held.id);
    expect(job).not.toBeNull();
    await sweepUploads(db, store, { retentionMs: RETENTION });
    expect(await store.exists(held.key)).toBe(true);
    await db.worker.upsert({
      where: { id: "w-sweep" },
      update: {},
      create: { id: "w-sweep", workspaceId, host: "t", pid: 1, cpuCount: 1 },
    });
    expect(await startJob(db, job?.id ?? "", "w-sweep")).toBe(true);
    await sweepUploads(db, store, { retentionMs: RETENTION });
    expect(await store.exists(held.key)).toBe(true);
    expect(await statusOf(held.id)).toBe("importing");
    // the worker died without consuming it; its job was ended (failed) later
    await db.job.update({ where: { id: job?.id ?? "" }, data: { status: "failed" } });
    const report = await sweepUploads(db, store, { retentionMs: RETENTION });
    expect(report.released).toEqual([held.id]);
    expect(await store.exists(held.key)).toBe(false);
    expect(await statusOf(held.id)).toBe("consumed");
  });

  it("records an upload blob that has no row and sweeps it one retention period after it was first seen", async () => {
    const store = makeStore();
    const key = uploadKey(workspaceId, `up_${randomBytes(8).toString("hex")}`);
    await store.put(key, "made before uploads were recorded\n");
    const first = await sweepUploads(db, store, { retentionMs: RETENTION });
    expect(first.adopted).toEqual([key]);
    expect(await store.exists(key)).toBe(true);
    const row = await db.datasetUpload.findUniqueOrThrow({ where: { blobKey: key } });
    expect(row.status).toBe("received");
    const later = new Date(Date.now() + RETENTION + HOUR);
    const second = await sweepUploads(db, store, { retentionMs: RETENTION, now: later });
    expect(second.expired).toContain(row.id);
    expect(await store.exists(key)).toBe(false);
  });
});

describe("an import and the sweeper on the same upload", () => {
  it("an import's hold that commits while a sweep waits on the row is respected", async () => {
    const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "upload-race-")));
    const old = await upload(store, { ageHours: 48 });
    let sweep: Promise<unknown> | undefined;
    // the claim's transaction holds the row lock while a sweep starts: the sweep's snapshot
    // predates the Job row, and it re-checks the row only once the claim has committed
    const job = await db.$transaction(async (tx) => {
      const created = await createJob(tx, { workspaceId, kind: "dataset-import", input: {} });
      expect(await claimUpload(tx, { workspaceId, uploadId: old.id, jobId: created.id })).toBe(true);
      sweep = sweepUploads(db, store, { retentionMs: RETENTION });
      await new Promise((r) => setTimeout(r, 300));
      return created;
    });
    await sweep;
    expect(await statusOf(old.id)).toBe("importing");
    expect(await store.exists(old.key)).toBe(true);
    // and the import, once run, consumes it
    expect(await consumeUpload(db, store, old.key, job.id)).toBe(true);
    expect(await statusOf(old.id)).toBe("consumed");
    expect(await store.exists(old.key)).toBe(false);
  });

  it("when the sweep wins, the import is refused and nothing is left", async () => {
    const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "upload-race-")));
    const old = await upload(store, { ageHours: 48 });
    const [swept, job] = await Promise.all([
      sweepUploads(db, store, { retentionMs: RETENTION }),
      startImport(old.id),
    ]);
    if (job) {
      expect(await statusOf(old.id)).toBe("importing");
      expect(await store.exists(old.key)).toBe(true);
    } else {
      expect(swept.expired).toContain(old.id);
      expect(await store.exists(old.key)).toBe(false);
    }
  });
});
