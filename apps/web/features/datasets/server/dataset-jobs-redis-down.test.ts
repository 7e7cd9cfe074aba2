import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

// Redis is down for this whole file (nothing listens on port 1): the Job row is the truth.
process.env.REDIS_URL = "redis://127.0.0.1:1";
process.env.DISTILLERY_DATA_DIR = mkdtempSync(join(tmpdir(), "dataset-jobs-redis-down-"));

type Handler = (req: Request) => Promise<Response>;
let upload: Handler;
let importFrom: Handler;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";

beforeAll(async () => {
  stopServices = await ensureTestServices();
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  upload = (await import("@/app/api/datasets/uploads/route.ts")).POST;
  importFrom = (await import("@/app/api/datasets/imports/route.ts")).POST;
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  await getContext().db.$disconnect();
  getContext().redis.disconnect();
  await drop?.();
  await stopServices?.();
});

describe("a dataset import requested while Redis is down", () => {
  it("answers with its job, which stays queued with the payload the workers' sweeper enqueues", async () => {
    const row = JSON.stringify({ instruction: "What is 1 + 1?", response: "<think>\nadd\n</think>\n\n2" });
    const up = await upload(
      new Request("http://localhost/api/datasets/uploads?fileName=t.jsonl", {
        method: "POST",
        body: `${row}\n${row}\n`,
      }),
    );
    expect(up.status).toBe(200);
    const { uploadId, fileName } = (await up.json()) as { uploadId: string; fileName: string };
    const res = await importFrom(
      new Request("http://x/api/datasets/imports", {
        method: "POST",
        body: JSON.stringify({ datasetName: "while down", source: { kind: "upload", uploadId, fileName } }),
      }),
    );
    expect(res.status).toBe(200);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    // not failed for ever: queued, with what the sweeper needs to enqueue it once Redis is back
    expect(job).toMatchObject({ status: "queued", error: null, finishedAt: null });
    expect((job.input as { queuePayload?: unknown }).queuePayload).toMatchObject({
      op: "import",
      jobId,
      workspaceId,
      source: { kind: "upload", fileName },
    });
    // the upload stays held by that job (the upload sweeper leaves it alone)
    expect(await db.datasetUpload.findUniqueOrThrow({ where: { id: uploadId } })).toMatchObject({
      status: "importing",
      jobId,
    });
  });
});
