import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset } from "@distillery/catalog";
import type { CanonicalExample } from "@distillery/core";
import { type Db, ensureDefaultWorkspace, registerWorker, startJob } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * The import, cancel and rows routes against the real Postgres and Redis (jobs are enqueued; no
 * worker consumes this test's queue prefix, so jobs stay where the test puts them).
 */
const dataDir = mkdtempSync(join(tmpdir(), "dataset-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `dr${randomBytes(3).toString("hex")}`;
const store = createFsBlobStore(join(dataDir, "blobs"));

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: {
  upload: Handler;
  importFrom: Handler;
  cancel: Handler;
  rows: Handler;
  job: Handler;
  derive: Handler;
};
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  routes = {
    upload: (await import("@/app/api/datasets/uploads/route.ts")).POST,
    importFrom: (await import("@/app/api/datasets/imports/route.ts")).POST,
    cancel: (await import("@/app/api/datasets/jobs/[jobId]/cancel/route.ts")).POST,
    job: (await import("@/app/api/datasets/jobs/[jobId]/route.ts")).GET,
    rows: (await import("@/app/api/datasets/[datasetId]/versions/[versionId]/rows/route.ts")).GET,
    derive: (await import("@/app/api/datasets/[datasetId]/versions/[versionId]/derive/route.ts")).POST,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.datasets).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });
const magpie = (i: number) =>
  JSON.stringify({ instruction: `What is ${i} + ${i}?`, response: `<think>\nadd\n</think>\n\n${2 * i}` });

async function uploadFile(): Promise<{ uploadId: string; fileName: string }> {
  const res = await routes.upload(
    new Request("http://localhost/api/datasets/uploads?fileName=t.jsonl", {
      method: "POST",
      body: `${[1, 2, 3].map(magpie).join("\n")}\n`,
    }),
  );
  expect(res.status).toBe(200);
  return res.json();
}

const requestImport = (source: { uploadId: string; fileName: string }) =>
  routes.importFrom(
    new Request("http://x/api/datasets/imports", {
      method: "POST",
      body: JSON.stringify({
        datasetName: `ds-${randomBytes(3).toString("hex")}`,
        source: { kind: "upload", ...source },
      }),
    }),
  );

const cancel = (jobId: string) =>
  routes.cancel(
    new Request(`http://x/api/datasets/jobs/${jobId}/cancel`, { method: "POST" }),
    params({ jobId }),
  );

describe("POST /api/datasets/imports", () => {
  it("holds the upload for its job, so the same upload cannot be imported twice", async () => {
    const upload = await uploadFile();
    const res = await requestImport(upload);
    expect(res.status).toBe(200);
    const { jobId } = await res.json();
    expect(await db.datasetUpload.findUniqueOrThrow({ where: { id: upload.uploadId } })).toMatchObject({
      status: "importing",
      jobId,
    });
    const again = await requestImport(upload);
    expect(again.status).toBe(404);
    expect((await again.json()).detail).toMatch(/already imported, or expired/);
    expect(await db.job.count({ where: { kind: "dataset-import" } })).toBe(1);
  });

  it("refuses an upload the sweeper expired, with a message saying to upload again", async () => {
    const upload = await uploadFile();
    await db.datasetUpload.update({ where: { id: upload.uploadId }, data: { status: "expired" } });
    const res = await requestImport(upload);
    expect(res.status).toBe(404);
    expect((await res.json()).detail).toMatch(/upload the file again/);
  });
});

describe("POST /api/datasets/jobs/[jobId]/cancel", () => {
  it("cancels a queued import at once, and says so when the job is polled", async () => {
    const { jobId } = await (await requestImport(await uploadFile())).json();
    const res = await cancel(jobId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jobId, status: "cancelled", isCancelRequested: true });
    const polled = await (
      await routes.job(new Request(`http://x/api/datasets/jobs/${jobId}`), params({ jobId }))
    ).json();
    expect(polled.job).toMatchObject({ status: "cancelled", isCancelRequested: true });
    expect(polled.job.error).toMatch(/Cancelled before it started/);
  });

  it("asks a running import to stop: the job stays active until its worker ends it", async () => {
    const { jobId } = await (await requestImport(await uploadFile())).json();
    await registerWorker(db, {
      id: "w-route",
      workspaceId,
      host: "t",
      pid: 1,
      cpuCount: 1,
      memoryMb: 1,
      gpus: [],
      engines: [],
      capabilities: {},
      version: "t",
    });
    expect(await startJob(db, jobId, "w-route")).toBe(true);
    const res = await cancel(jobId);
    expect(await res.json()).toEqual({ jobId, status: "active", isCancelRequested: true });
    // twice is harmless
    expect((await cancel(jobId)).status).toBe(200);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).cancelRequestedAt).not.toBeNull();
  });

  it("refuses to cancel a finished job (409) and an unknown one (404)", async () => {
    const { jobId } = await (await requestImport(await uploadFile())).json();
    await db.job.update({ where: { id: jobId }, data: { status: "completed" } });
    const res = await cancel(jobId);
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toMatch(/already completed/);
    expect((await cancel("job_nope")).status).toBe(404);
  });
});

describe("GET …/versions/[versionId]/rows", () => {
  it("pages and searches a version, with `next` to go on from", async () => {
    const dataset = await ensureDataset(db, { workspaceId, name: "browse" });
    const row = (i: number): CanonicalExample => ({
      messages: [{ role: "user", content: i % 25 === 0 ? `Find the needle ${i}` : `Question ${i}` }],
      reasoning: `thinking about ${i}`,
      answer: String(i),
      think: "ok",
    });
    const version = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: dataset.id,
      operation: { kind: "import" },
      write: async (sink) => {
        await sink.write(Array.from({ length: 300 }, (_, i) => row(i)));
        return {};
      },
    });
    const get = async (query: string) => {
      const p = { datasetId: dataset.id, versionId: version.id };
      const res = await routes.rows(new Request(`http://x/rows?${query}`), params(p));
      expect(res.status).toBe(200);
      return res.json();
    };
    const page = await get("from=290&limit=20");
    expect(page.rows.map((r: { index: number }) => r.index)).toEqual(
      [...Array(10).keys()].map((i) => 290 + i),
    );
    expect(page).toMatchObject({ total: 300, from: 290, next: null });
    const first = await get("q=NEEDLE&limit=5");
    expect(first.rows.map((r: { index: number }) => r.index)).toEqual([0, 25, 50, 75, 100]);
    expect(first.next).toBe(101);
    const rest = await get(`q=needle&limit=20&from=${first.next}`);
    expect(rest.rows.map((r: { index: number }) => r.index)).toEqual([125, 150, 175, 200, 225, 250, 275]);
    expect(rest.next).toBeNull();
  });
});

describe("POST …/versions/[versionId]/derive with op stats", () => {
  it("recounts with a chosen model: the model is required, an unknown one is refused, a known one queues a job", async () => {
    const dataset = await ensureDataset(db, { workspaceId, name: "recount" });
    const version = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: dataset.id,
      operation: { kind: "import" },
      write: async (sink) => {
        await sink.write([
          { messages: [{ role: "user", content: "q" }], reasoning: null, answer: "a", think: "missing" },
        ]);
        return {};
      },
    });
    const derive = (body: unknown) =>
      routes.derive(
        new Request("http://x/derive", { method: "POST", body: JSON.stringify(body) }),
        params({ datasetId: dataset.id, versionId: version.id }),
      );
    const missing = await derive({ op: "stats" });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toContain("tokenizerModelId");
    const unknown = await derive({ op: "stats", tokenizerModelId: "mdl_nope" });
    expect([400, 404, 422]).toContain(unknown.status);
    expect(JSON.stringify(await unknown.json())).toContain("mdl_nope");
    const model = await db.model.create({
      data: {
        id: `mdl_${randomBytes(4).toString("hex")}`,
        workspaceId,
        name: "student",
        location: "blob:models/x",
      },
    });
    const ok = await derive({ op: "stats", tokenizerModelId: model.id });
    expect(ok.status).toBeLessThan(300);
    const { jobId } = await ok.json();
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ kind: "dataset-stats", status: "queued" });
  });
});
