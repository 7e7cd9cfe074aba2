import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimUpload, markUploadReceived, recordUpload, uploadKey } from "@distillery/catalog";
import { readVersionRows } from "@distillery/datasets";
import { createJob, type Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createProducer, createRedisConnection, type DatasetJobPayloadInput, QUEUES } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import { type Job, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatasetProcessor } from "./dataset-processor.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "dataset-jobs-"));
const store = createFsBlobStore(join(root, "blobs"));
const workerId = "w-datasets";
const prefix = `t${randomBytes(3).toString("hex")}`;

const magpie = (i: number) =>
  JSON.stringify({
    instruction: `What is ${i} + ${i}?`,
    response: `<think>\nAdd ${i} to itself.\n</think>\n\nThe answer is ${2 * i}.`,
  });

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker(workerId));
});
afterAll(async () => {
  await drop();
});

const processor = () => createDatasetProcessor({ db, store, workerId });

/**
 * Puts an upload in the store with its row (as the upload route does), and makes the Job row
 * holding it (as the import route does).
 */
async function prepareImport(body: string | Buffer, extra: Partial<DatasetJobPayloadInput> = {}) {
  const uploadId = `up_${randomBytes(8).toString("hex")}`;
  const key = uploadKey(workspaceId, uploadId);
  await recordUpload(db, { id: uploadId, workspaceId, fileName: "traces.jsonl" });
  await store.put(key, body);
  await markUploadReceived(db, uploadId, Buffer.byteLength(body));
  const job = await db.$transaction(async (tx) => {
    const created = await createJob(tx, {
      workspaceId,
      kind: "dataset-import",
      input: { fileName: "traces.jsonl" },
    });
    expect(await claimUpload(tx, { workspaceId, uploadId, jobId: created.id })).toBe(true);
    return created;
  });
  const payload = {
    op: "import",
    jobId: job.id,
    workspaceId,
    datasetName: `ds-${randomBytes(3).toString("hex")}`,
    source: { kind: "upload", key, fileName: "traces.jsonl" },
    policy: "skip",
    ...extra,
  } as DatasetJobPayloadInput;
  return { key, job, payload };
}
const run = (payload: unknown) => processor()({ data: payload } as Job);

describe("dataset jobs", () => {
  it("imports an upload through the real queue into a version with statistics, and removes the upload", async () => {
    const body = `${Array.from({ length: 30 }, (_, i) => magpie(i)).join("\n")}\n`;
    const { key, job, payload } = await prepareImport(body);
    const connection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const producerConnection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "producer");
    const worker = new Worker(QUEUES.datasets, processor(), { connection, prefix });
    const producer = createProducer(producerConnection, prefix);
    try {
      await producer.enqueue(QUEUES.datasets, payload);
      // Postgres owns the outcome: wait for the Job row, as the UI does
      for (;;) {
        const { status } = await db.job.findUniqueOrThrow({ where: { id: job.id } });
        if (status === "completed" || status === "failed") break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.close();
      await producer.close();
      connection.disconnect();
      producerConnection.disconnect();
    }
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("completed");
    const output = row.output as {
      versionId: string;
      rows: number;
      badRows: number;
      shape: string;
      tokenizer: { kind: string };
    };
    expect(output).toMatchObject({ rows: 30, badRows: 0, shape: "magpie", tokenizer: { kind: "bytes" } });
    const version = await db.datasetVersion.findUniqueOrThrow({ where: { id: output.versionId } });
    expect(version).toMatchObject({ rowCount: 30, status: "ready", parentId: null });
    const stats = version.stats as {
      rows: number;
      think: { ok: number };
      tokenizer: { kind: string };
      histograms: { total: { mean: number } };
    };
    expect(stats.rows).toBe(30);
    expect(stats.think.ok).toBe(30);
    expect(stats.tokenizer.kind).toBe("bytes");
    expect(stats.histograms.total.mean).toBeGreaterThan(0);
    expect(await store.exists(key)).toBe(false);
    expect(await db.datasetUpload.findUniqueOrThrow({ where: { blobKey: key } })).toMatchObject({
      status: "consumed",
      jobId: job.id,
    });
    const rows = [];
    for await (const r of readVersionRows(store.localPath(version.blobKey ?? "") ?? "")) rows.push(r);
    expect(rows[3]).toMatchObject({ reasoning: "Add 3 to itself.", answer: "The answer is 6.", think: "ok" });
  });

  it("rejects a malformed file with its file and line, leaves no version and removes the upload", async () => {
    const body = `${magpie(1)}\n{"instruction": "broken\n${magpie(2)}\n`;
    const { key, job, payload } = await prepareImport(body, { policy: "reject" });
    const before = await db.datasetVersion.count();
    await run(payload);
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/^traces\.jsonl, line 2: /);
    expect(row.output).toMatchObject({ failure: { code: "bad_row", file: "traces.jsonl", line: 2 } });
    expect(await db.datasetVersion.count()).toBe(before);
    expect(
      await db.dataset.count({ where: { name: (payload as { datasetName: string }).datasetName } }),
    ).toBe(0);
    expect(await store.exists(key)).toBe(false);
    expect((await store.list("datasets/")).filter((k) => !k.endsWith("rows.jsonl.gz"))).toEqual([]);
  });

  it("skips bad rows when asked, reporting each with file, line and reason", async () => {
    const body = `${magpie(1)}\nnot json\n${magpie(2)}\n{"instruction": "no response"}\n`;
    const { job, payload } = await prepareImport(body);
    await run(payload);
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("completed");
    const output = row.output as {
      rows: number;
      badRows: number;
      errors: { file: string; line: number; reason: string }[];
    };
    expect(output.rows).toBe(2);
    expect(output.badRows).toBe(2);
    expect(output.errors.map((e) => [e.file, e.line])).toEqual([
      ["traces.jsonl", 2],
      ["traces.jsonl", 4],
    ]);
    expect(output.errors[0]?.reason).toMatch(/JSON/i);
  });

  it("an empty file fails clearly with no version", async () => {
    const { job, payload } = await prepareImport("");
    const before = await db.datasetVersion.count();
    await run(payload);
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/empty/i);
    expect(await db.datasetVersion.count()).toBe(before);
  });

  it("filters and splits a version into new versions whose parent is the input", async () => {
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => magpie(i)),
      magpie(3),
      JSON.stringify({ instruction: "x", response: "no think here" }),
    ];
    const { job, payload } = await prepareImport(`${rows.join("\n")}\n`);
    await run(payload);
    const imported = (await db.job.findUniqueOrThrow({ where: { id: job.id } })).output as {
      versionId: string;
    };

    const filterJob = await createJob(db, { workspaceId, kind: "dataset-filter", input: {} });
    await run({
      op: "filter",
      jobId: filterJob.id,
      workspaceId,
      versionId: imported.versionId,
      filters: [
        { type: "dedupe", mode: "exact" },
        { type: "think", drop: ["missing"] },
      ],
    });
    const filtered = await db.job.findUniqueOrThrow({ where: { id: filterJob.id } });
    expect(filtered.status).toBe("completed");
    const fOut = filtered.output as {
      versions: { id: string; rows: number }[];
      dropped: { filter: string; rows: number }[];
    };
    expect(fOut.versions[0]?.rows).toBe(20);
    expect(fOut.dropped).toEqual([
      { filter: "dedupe", rows: 1 },
      { filter: "think", rows: 1 },
    ]);
    const child = await db.datasetVersion.findUniqueOrThrow({ where: { id: fOut.versions[0]?.id ?? "" } });
    expect(child.parentId).toBe(imported.versionId);
    expect(child.operation).toMatchObject({ kind: "filter" });

    const splitJob = await createJob(db, { workspaceId, kind: "dataset-split", input: {} });
    await run({ op: "split", jobId: splitJob.id, workspaceId, versionId: child.id });
    const split = await db.job.findUniqueOrThrow({ where: { id: splitJob.id } });
    const sOut = split.output as { versions: { id: string; rows: number; role: string }[] };
    expect(sOut.versions.map((v) => [v.role, v.rows])).toEqual([
      ["train", 18],
      ["test", 2],
    ]);
    const sides = await db.datasetVersion.findMany({ where: { id: { in: sOut.versions.map((v) => v.id) } } });
    expect(sides.every((v) => v.parentId === child.id)).toBe(true);
  });
});
