import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/** The Models routes against the real Postgres and Redis; no worker consumes this test's queue. */
const dataDir = mkdtempSync(join(tmpdir(), "model-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `mr${randomBytes(3).toString("hex")}`;
process.env.HF_ENDPOINT = "http://127.0.0.1:9/mirror";

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: {
  add: Handler;
  list: Handler;
  createUpload: Handler;
  putFile: Handler;
  complete: Handler;
  jobs: Handler;
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
  const models = await import("@/app/api/models/route.ts");
  routes = {
    add: models.POST,
    list: models.GET,
    jobs: (await import("@/app/api/models/jobs/route.ts")).GET,
    createUpload: (await import("@/app/api/models/uploads/route.ts")).POST,
    putFile: (await import("@/app/api/models/uploads/[uploadId]/files/route.ts")).PUT,
    complete: (await import("@/app/api/models/uploads/[uploadId]/complete/route.ts")).POST,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.models).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });
const post = (url: string, body: unknown) =>
  new Request(`http://x${url}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("adding a model", () => {
  it("queues a Hub download from HF_ENDPOINT; the token rides the payload, never the Job row", async () => {
    const res = await routes.add(
      post("/api/models", {
        source: { kind: "hub", repoId: "HuggingFaceTB/SmolLM2-135M", token: "hf_secret" },
      }),
    );
    expect(res.status).toBe(202);
    const { jobId, name } = (await res.json()) as { jobId: string; name: string };
    expect(name).toBe("HuggingFaceTB/SmolLM2-135M");
    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(row).toMatchObject({ kind: "model-add", status: "queued" });
    expect(JSON.stringify(row)).not.toContain("hf_secret");
    const { getContext } = await import("@/lib/server/context.ts");
    const queued = await getContext().producer.queue(QUEUES.models).getJob(jobId);
    expect(queued?.data.source).toMatchObject({
      kind: "hub",
      endpoint: "http://127.0.0.1:9/mirror",
      revision: "main",
      token: "hf_secret",
    });
    const jobs = (await (await routes.jobs(new Request("http://x/api/models/jobs"))).json()) as {
      jobs: { id: string }[];
    };
    expect(jobs.jobs.map((j) => j.id)).toContain(jobId);
  });

  it("answers 400 naming the field for a bad Hub id, and 409 for a name in use", async () => {
    const bad = await routes.add(post("/api/models", { source: { kind: "hub", repoId: "not a repo" } }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("body.source.repoId");
    await db.model.create({ data: { id: "mdl_taken", workspaceId, name: "taken" } });
    const taken = await routes.add(
      post("/api/models", { name: "taken", source: { kind: "path", path: "/models/x" } }),
    );
    expect(taken.status).toBe(409);
    const relative = await routes.add(post("/api/models", { source: { kind: "path", path: "models/x" } }));
    expect(relative.status).toBe(400);
  });

  it("streams an uploaded folder's files to storage and queues its registration", async () => {
    const { uploadId } = (await (
      await routes.createUpload(new Request("http://x", { method: "POST" }))
    ).json()) as {
      uploadId: string;
    };
    const put = (path: string, body: string) =>
      routes.putFile(
        new Request(`http://x/api/models/uploads/${uploadId}/files?path=${encodeURIComponent(path)}`, {
          method: "PUT",
          body,
        }),
        params({ uploadId }),
      );
    const bin = await put("pytorch_model.bin", "x");
    expect(bin.status).toBe(400);
    expect(((await bin.json()) as { detail: string }).detail).toMatch(/only safetensors weights/);
    const noConfig = await routes.complete(post("/", { name: "mine" }), params({ uploadId }));
    expect(noConfig.status).toBe(404);
    expect((await put("tokenizer.json", "{}")).status).toBe(200);
    const early = await routes.complete(post("/", { name: "mine" }), params({ uploadId }));
    expect(early.status).toBe(422);
    expect(((await early.json()) as { detail: string }).detail).toMatch(/no config.json/);
    expect((await put("config.json", '{"model_type":"llama"}')).status).toBe(200);
    const done = await routes.complete(post("/", { name: "mine" }), params({ uploadId }));
    expect(done.status).toBe(202);
    const { jobId } = (await done.json()) as { jobId: string };
    const { getContext } = await import("@/lib/server/context.ts");
    const queued = await getContext().producer.queue(QUEUES.models).getJob(jobId);
    expect(queued?.data.source).toEqual({
      kind: "upload",
      prefix: `model-uploads/${workspaceId}/${uploadId}`,
    });
    expect(await getContext().store.list(`model-uploads/${workspaceId}/${uploadId}/`)).toHaveLength(2);
  });
});
