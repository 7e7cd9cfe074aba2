import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerModelDir } from "@distillery/catalog";
import { createJob, type Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatasetProcessor } from "./dataset-processor.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let server: Server;
let base: string;
const root = mkdtempSync(join(tmpdir(), "dataset-sources-"));
const store = createFsBlobStore(join(root, "blobs"));
const workerId = "w-sources";
const run = (payload: unknown) => createDatasetProcessor({ db, store, workerId })({ data: payload } as Job);

/** R1-style Parquet shard: problem / solution, reasoning in its own column. */
const shard = Buffer.from(
  parquetWriteBuffer({
    columnData: [
      { name: "problem", data: [1, 2, 3, 4].map((i) => `What is ${i} squared?`) },
      { name: "reasoning", data: [1, 2, 3, 4].map((i) => `${i} times ${i} is ${i * i}.`) },
      { name: "solution", data: [1, 2, 3, 4].map((i) => `\\boxed{${i * i}}`) },
    ],
  }),
);

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker(workerId));
  // a stand-in for the Hub and its datasets server, gated behind a token
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization !== "Bearer hf_secret") return void res.writeHead(401).end("{}");
    if (url.pathname === "/parquet") {
      const dataset = url.searchParams.get("dataset");
      return void res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          parquet_files: [
            {
              dataset,
              config: "default",
              split: "train",
              url: `${base}/datasets/${dataset}/resolve/x/default/train/0000.parquet`,
              filename: "0000.parquet",
              size: shard.length,
            },
          ],
        }),
      );
    }
    if (url.pathname.endsWith("/0000.parquet")) return void res.writeHead(200).end(shard);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await drop();
});

const hubPayload = (jobId: string, token?: string) => ({
  op: "import",
  jobId,
  workspaceId,
  datasetName: `hub-${randomBytes(3).toString("hex")}`,
  source: {
    kind: "hub",
    dataset: "acme/r1-squares",
    split: "train",
    hubUrl: base,
    datasetsServerUrl: base,
    ...(token ? { token } : {}),
  },
});

describe("dataset import sources and tokenizers", () => {
  it("imports a gated Hub split's Parquet files with the token, detecting the R1 shape", async () => {
    const job = await createJob(db, { workspaceId, kind: "dataset-import", input: {} });
    await run(hubPayload(job.id, "hf_secret"));
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.error).toBeNull();
    expect(row.output).toMatchObject({ rows: 4, shape: "r1" });
    const version = await db.datasetVersion.findFirstOrThrow({
      where: { id: (row.output as { versionId: string }).versionId },
    });
    expect(version.operation).toEqual({
      kind: "import",
      policy: "skip",
      source: { kind: "hub", dataset: "acme/r1-squares", config: null, split: "train" },
    });
    expect(JSON.stringify(row)).not.toContain("hf_secret");
  });

  it("fails a gated Hub split without the token, with no version", async () => {
    const job = await createJob(db, { workspaceId, kind: "dataset-import", input: {} });
    const before = await db.datasetVersion.count();
    await run(hubPayload(job.id));
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/gated|private|401|token/i);
    expect(await db.datasetVersion.count()).toBe(before);
  });

  it("counts tokens with the workspace's first model that has a tokenizer.json, and records it", async () => {
    const dir = join(root, "tiny");
    createTinyModel(dir, {
      corpus: ["What is 2 squared? 2 times 2 is 4."],
      vocabSize: 300,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 64,
    });
    const model = await registerModelDir(db, store, { workspaceId, name: "tiny-student", dir });
    const job = await createJob(db, { workspaceId, kind: "dataset-import", input: {} });
    await run(hubPayload(job.id, "hf_secret"));
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.output).toMatchObject({
      tokenizer: { kind: "model", modelId: model.id, modelName: "tiny-student" },
    });
    const version = await db.datasetVersion.findFirstOrThrow({
      where: { id: (row.output as { versionId: string }).versionId },
    });
    const stats = version.stats as { tokenizer: { kind: string }; histograms: { total: { mean: number } } };
    expect(stats.tokenizer.kind).toBe("model");
    expect(stats.histograms.total.mean).toBeGreaterThan(0);

    const missing = await createJob(db, { workspaceId, kind: "dataset-import", input: {} });
    await run({ ...hubPayload(missing.id, "hf_secret"), tokenizerModelId: "mdl_nope" });
    expect((await db.job.findUniqueOrThrow({ where: { id: missing.id } })).error).toMatch(
      /mdl_nope does not exist/,
    );
  });
});
