import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimUpload, markUploadReceived, recordUpload, uploadKey } from "@distillery/catalog";
import { STRATOS_ROW } from "@distillery/core/dataset-fixtures";
import { createJob, type Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { type DatasetJobPayloadInput, ZDatasetJobPayload } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatasetProcessor } from "./dataset-processor.ts";
import { importDataset } from "./import-dataset.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "dataset-integrity-"));
const store = createFsBlobStore(join(root, "blobs"));
const workerId = "w-integrity";

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker(workerId));
});
afterAll(async () => {
  await drop();
});

async function prepareImport(body: string, fileName = "traces.jsonl") {
  const uploadId = `up_${randomBytes(8).toString("hex")}`;
  const key = uploadKey(workspaceId, uploadId);
  await recordUpload(db, { id: uploadId, workspaceId, fileName });
  await store.put(key, body);
  await markUploadReceived(db, uploadId, Buffer.byteLength(body));
  const job = await db.$transaction(async (tx) => {
    const created = await createJob(tx, { workspaceId, kind: "dataset-import", input: { fileName } });
    expect(await claimUpload(tx, { workspaceId, uploadId, jobId: created.id })).toBe(true);
    return created;
  });
  const datasetName = `ds-${randomBytes(3).toString("hex")}`;
  const payload = {
    op: "import",
    jobId: job.id,
    workspaceId,
    datasetName,
    source: { kind: "upload", key, fileName },
    policy: "skip",
  } as DatasetJobPayloadInput;
  return { job, payload, datasetName };
}

const datasetFiles = () => {
  try {
    return readdirSync(join(root, "blobs", "datasets"), { recursive: true }).filter((f) =>
      String(f).endsWith(".gz"),
    );
  } catch {
    return [];
  }
};

describe("an import leaves a version only when its job succeeded", () => {
  it("a job that cannot complete rolls its version back: no version row, no rows file, no dataset", async () => {
    const { job, payload, datasetName } = await prepareImport(`${JSON.stringify(STRATOS_ROW)}\n`);
    await db.job.update({ where: { id: job.id }, data: { status: "active", workerId } });
    const before = datasetFiles().length;
    await expect(
      importDataset(
        {
          db,
          store,
          finish: async () => {
            throw new Error("the job's completing update failed");
          },
        },
        ZDatasetJobPayload.parse(payload) as Parameters<typeof importDataset>[1],
      ),
    ).rejects.toThrow("completing update failed");
    expect(await db.dataset.findFirst({ where: { workspaceId, name: datasetName } })).toBeNull();
    expect(await db.datasetVersion.count({ where: { dataset: { name: datasetName } } })).toBe(0);
    expect(datasetFiles().length).toBe(before);
  });

  it("NUL bytes in rows and column names: bad rows named, the job completes, nothing Postgres refuses", async () => {
    const body = [
      JSON.stringify(STRATOS_ROW),
      JSON.stringify({ ...STRATOS_ROW, system: "a\u0000b" }),
      JSON.stringify({ ...STRATOS_ROW, "col\u0000umn": 1 }),
    ].join("\n");
    const { job, payload } = await prepareImport(body);
    const result = await createDatasetProcessor({ db, store, workerId })({ data: payload } as Job);
    expect(result).toMatchObject({ versionIds: [expect.any(String)] });
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("completed");
    const output = row.output as {
      rows: number;
      errors: { line: number; field: string; reason: string }[];
      shape: string;
    };
    expect(output.shape).toBe("sharegpt");
    expect(output.rows).toBe(2);
    expect(output.errors).toEqual([
      { file: "traces.jsonl", line: 2, field: "system", reason: expect.stringContaining("NUL") },
    ]);
  });

  it("an unexpected failure shows the user no internals; a dataset error keeps its file and line", async () => {
    const { job, payload } = await prepareImport('{"instruction": oops\n');
    await createDatasetProcessor({ db, store, workerId })({ data: { ...payload, policy: "reject" } } as Job);
    const failed = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^traces\.jsonl, line 1: invalid JSON/);

    const logged: unknown[] = [];
    const second = await prepareImport(`${JSON.stringify(STRATOS_ROW)}\n`);
    // a tokenizer model id that makes Prisma itself fail (not a dataset problem)
    const processor = createDatasetProcessor({
      db,
      store,
      workerId,
      logError: (d) => logged.push(d),
    });
    await db.$executeRawUnsafe(`ALTER TABLE "DatasetVersion" RENAME TO "DatasetVersionGone"`);
    try {
      await processor({ data: second.payload } as Job);
    } finally {
      await db.$executeRawUnsafe(`ALTER TABLE "DatasetVersionGone" RENAME TO "DatasetVersion"`);
    }
    const row = await db.job.findUniqueOrThrow({ where: { id: second.job.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toBe(
      `the job failed on the server (job ${second.job.id}); the worker's log has the details`,
    );
    expect(row.error).not.toMatch(/\/|DatasetVersion|prisma/i);
    expect(logged).toHaveLength(1);
  });
});

describe("statistics with the student's tokenizer", () => {
  it("a version's statistics are recounted with a chosen model's tokenizer.json; the rows stay", async () => {
    const { createTinyModel } = await import("@distillery/engine-local");
    const { registerModelDir } = await import("@distillery/catalog");
    const { job, payload } = await prepareImport(
      `${Array.from({ length: 12 }, () => JSON.stringify(STRATOS_ROW)).join("\n")}\n`,
    );
    const processor = createDatasetProcessor({ db, store, workerId });
    await processor({ data: payload } as Job);
    const imported = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    const { versionId } = imported.output as { versionId: string };
    const before = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
    const statsBefore = before.stats as {
      tokenizer: { kind: string };
      histograms: { total: { mean: number } };
    };
    expect(statsBefore.tokenizer.kind).toBe("bytes");

    const dir = join(root, "tiny-model");
    createTinyModel(dir, {
      corpus: ["What is 2 + 3 * 4? Multiplication comes first."],
      vocabSize: 300,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 64,
    });
    const model = await registerModelDir(db, store, { workspaceId, name: "student", dir });
    const statsJob = await createJob(db, { workspaceId, kind: "dataset-stats", input: { versionId } });
    await processor({
      data: ZDatasetJobPayload.parse({
        op: "stats",
        jobId: statsJob.id,
        workspaceId,
        versionId,
        tokenizerModelId: model.id,
      }),
    } as Job);
    const done = await db.job.findUniqueOrThrow({ where: { id: statsJob.id } });
    expect(done.status).toBe("completed");
    const after = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
    const statsAfter = after.stats as {
      rows: number;
      tokenizer: { kind: string; modelName: string };
      histograms: { total: { mean: number } };
      import: { shape: string };
    };
    expect(statsAfter.tokenizer).toMatchObject({ kind: "model", modelName: "student" });
    expect(statsAfter.rows).toBe(12);
    expect(statsAfter.import.shape).toBe("sharegpt");
    // a BPE vocabulary counts fewer tokens than one per byte
    expect(statsAfter.histograms.total.mean).toBeLessThan(statsBefore.histograms.total.mean);
    expect(after.blobKey).toBe(before.blobKey);
  });
});
