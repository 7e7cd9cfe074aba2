import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { claimUpload, markUploadReceived, recordUpload, uploadKey } from "@distillery/catalog";
import { createJob, type Db, requestCancelJob } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { type BlobStore, createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatasetProcessor } from "./dataset-processor.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "dataset-cancel-"));
const base = createFsBlobStore(join(root, "blobs"));
const workerId = "w-cancel";

/**
 * Uploads whose key is in `endless` read as a file that never ends (as S3 streams are read, with
 * no local path): an import of one can only stop by being cancelled, so the test cannot race
 * the import's end whatever the machine's speed.
 */
const endless = new Set<string>();
async function* endlessTraces() {
  for (let i = 0; ; i++) {
    let chunk = "";
    for (let j = 0; j < 256; j++)
      chunk += `${JSON.stringify({ instruction: `What is ${i}·${j}?`, response: `<think>\nmultiply\n</think>\n\n${i * j}` })}\n`;
    yield Buffer.from(chunk);
    await sleep(2);
  }
}
const store: BlobStore = {
  ...base,
  localPath: (key) => (endless.has(key) ? undefined : base.localPath(key)),
  get: async (key) => (endless.has(key) ? Readable.from(endlessTraces()) : base.get(key)),
};

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker(workerId));
});
afterAll(async () => {
  await drop();
});

const run = (payload: unknown) =>
  createDatasetProcessor({ db, store, workerId, cancelPollMs: 100 })({ data: payload } as Job);

/** The upload route's row and blob, then the import route's Job row and hold on the upload. */
async function requestImport(options: { isEndless?: boolean } = {}) {
  const uploadId = `up_${randomBytes(8).toString("hex")}`;
  const key = uploadKey(workspaceId, uploadId);
  await recordUpload(db, { id: uploadId, workspaceId, fileName: "traces.jsonl" });
  await base.put(key, "(read as an endless stream)\n");
  if (options.isEndless) endless.add(key);
  await markUploadReceived(db, uploadId, 1);
  const job = await db.$transaction(async (tx) => {
    const created = await createJob(tx, { workspaceId, kind: "dataset-import", input: {} });
    expect(await claimUpload(tx, { workspaceId, uploadId, jobId: created.id })).toBe(true);
    return created;
  });
  const datasetName = `cancel-${randomBytes(3).toString("hex")}`;
  const payload = {
    op: "import",
    jobId: job.id,
    workspaceId,
    datasetName,
    source: { kind: "upload", key, fileName: "traces.jsonl" },
    policy: "skip",
  };
  return { uploadId, key, job, datasetName, payload };
}

/** Every file under the blob root, temp and partial files included (list() hides those). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

const cancel = (jobId: string) =>
  requestCancelJob(db, { workspaceId, jobId, kinds: ["dataset-import"], message: "cancelled while queued" });

describe("cancelling a dataset import", () => {
  it("stops a running import between batches and leaves no version, no rows and no upload", async () => {
    const { uploadId, key, job, datasetName, payload } = await requestImport({ isEndless: true });
    const versionsBefore = await db.datasetVersion.count();
    const running = run(payload);
    // wait until rows are being written into the version's (partial) rows file
    for (;;) {
      const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
      const rows = (row.output as { progress?: { rows?: number } } | null)?.progress?.rows ?? 0;
      if (rows >= 2_000 && filesUnder(join(root, "blobs")).some((f) => f.startsWith("datasets/"))) break;
      await sleep(20);
    }
    expect(await cancel(job.id)).toEqual({ status: "active", isCancelRequested: true });
    expect(await running).toEqual({ cancelled: true });

    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("cancelled");
    expect(row.error).toMatch(/^Cancelled after [\d,]+ rows; no version was created\.$/);
    expect(row.finishedAt).not.toBeNull();
    expect(await db.datasetVersion.count()).toBe(versionsBefore);
    expect(await db.dataset.count({ where: { name: datasetName } })).toBe(0);
    // nothing written for the version survives, not even a partial file
    expect(filesUnder(join(root, "blobs")).filter((f) => f.startsWith("datasets/"))).toEqual([]);
    expect(await base.exists(key)).toBe(false);
    expect((await db.datasetUpload.findUniqueOrThrow({ where: { id: uploadId } })).status).toBe("consumed");
  });

  it("cancels a queued import at once: its delivery is skipped and its upload removed", async () => {
    const { uploadId, key, job, payload } = await requestImport();
    expect(await cancel(job.id)).toEqual({ status: "cancelled", isCancelRequested: true });
    expect(await run(payload)).toEqual({ skipped: true });
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row).toMatchObject({ status: "cancelled", error: "cancelled while queued" });
    expect(await base.exists(key)).toBe(false);
    expect((await db.datasetUpload.findUniqueOrThrow({ where: { id: uploadId } })).status).toBe("consumed");
  });

  it("leaves a finished import alone", async () => {
    const { job, payload } = await requestImport();
    await base.put(
      (payload.source as { key: string }).key,
      `${JSON.stringify({ instruction: "q", response: "<think>\nr\n</think>\n\na" })}\n`,
    );
    await run(payload);
    expect(await cancel(job.id)).toEqual({ status: "completed", isCancelRequested: false });
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("completed");
    expect(row.cancelRequestedAt).toBeNull();
  });
});
