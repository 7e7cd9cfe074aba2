import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { QUEUES } from "@distillery/jobs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * Stored teacher logits from the studio: the version's routes (estimate, compute, cancel, list;
 * their permissions) and the launch refusals of a run naming an artifact, against the real
 * Postgres and Redis (no worker consumes this test's queue prefix).
 */
const dataDir = mkdtempSync(join(tmpdir(), "teacher-logits-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `tl${randomBytes(3).toString("hex")}`;

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: {
  list: Handler;
  create: Handler;
  action: Handler;
  remove: Handler;
  choices: Handler;
  launch: Handler;
};
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let role: "viewer" | "member" | "owner" = "owner";

const tokenizer = (vocab: Record<string, number>) =>
  JSON.stringify({
    model: { type: "BPE", vocab },
    added_tokens: ["<|end|>", "<think>", "</think>"].map((content, i) => ({
      id: Object.keys(vocab).length + i,
      content,
      special: true,
    })),
  });

function writeBlob(key: string, text: string) {
  const path = join(dataDir, "blobs", ...key.split("/"));
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

async function addModel(id: string, vocab: Record<string, number>) {
  writeBlob(`models/${id}/tokenizer.json`, tokenizer(vocab));
  await db.model.create({
    data: { id, workspaceId, name: id, engines: ["local"], location: `blob:models/${id}` },
  });
}

/** a ready artifact row with its tokenizer.json in the blob store */
async function addArtifact(id: string, versionId: string, vocab: Record<string, number>, extra = {}) {
  writeBlob(`teacher-logits/${id}/tokenizer.json`, tokenizer(vocab));
  await db.teacherLogits.create({
    data: {
      id,
      workspaceId,
      versionId,
      teacherModelId: "teacher",
      teacherName: "teacher",
      k: 20,
      maxSeqLength: 1024,
      template: "phi3",
      status: "ready",
      blobPrefix: `teacher-logits/${id}`,
      ...extra,
    },
  });
}

const vocab = { a: 0, b: 1, c: 2 };

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  await addModel("student", vocab);
  await addModel("teacher", vocab);
  await db.worker.create({
    data: { id: "wrk_1", workspaceId, host: "h", pid: 1, cpuCount: 2, memoryMb: 24_000, engines: ["local"] },
  });
  await db.dataset.create({ data: { id: "ds_t", workspaceId, name: "sums" } });
  for (const [id, version] of [
    ["dsv_a", 1],
    ["dsv_b", 2],
  ] as const)
    await db.datasetVersion.create({
      data: { id, workspaceId, datasetId: "ds_t", version, operation: {}, rowCount: 10 },
    });
  await addArtifact("tlg_ok", "dsv_a", vocab);
  await addArtifact("tlg_other_version", "dsv_b", vocab);
  await addArtifact("tlg_stranger", "dsv_a", { a: 0, x: 1, c: 2 });
  await addArtifact("tlg_running", "dsv_a", vocab, { status: "running" });
  const dir = "@/app/api/dataset-versions/[versionId]/teacher-logits";
  routes = {
    list: (await import(`${dir}/route.ts`)).GET,
    create: (await import(`${dir}/route.ts`)).POST,
    action: (await import(`${dir}/[artifactId]/route.ts`)).POST,
    remove: (await import(`${dir}/[artifactId]/route.ts`)).DELETE,
    choices: (await import("@/app/api/runs/teacher-logits-choices/route.ts")).POST,
    launch: (await import("@/app/api/runs/route.ts")).POST,
  };
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com", role }));
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.teacherLogits).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const params = (p: Record<string, string>) => ({ params: Promise.resolve(p) });
const post = (body: unknown) =>
  new Request("http://x/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const launch = (artifactId: string, extra: Record<string, unknown> = {}) =>
  routes.launch(
    post({
      config: {
        engine: "local",
        model: { id: "student" },
        data: { datasetVersionId: "dsv_a" },
        distillation: {
          mode: "logit",
          teacher: { modelId: "teacher" },
          teacherLogits: { artifactId },
          ...extra,
        },
      },
    }),
  );

describe("launch with stored teacher logits", () => {
  it("an artifact of the version with the student's tokenizer is accepted", async () => {
    expect((await launch("tlg_ok")).status).toBe(201);
  });

  it.each([
    ["tlg_nowhere", /teacher logits tlg_nowhere do not exist in this workspace/],
    ["tlg_other_version", /belong to dataset version dsv_b, the run trains on dsv_a/],
    ["tlg_stranger", /id 1 is \\"b\\" in the student and \\"x\\" in the teacher/],
    ["tlg_running", /teacher logits tlg_running are running, not ready/],
  ])("%s is refused before queueing, naming the field", async (artifactId, reason) => {
    const before = await db.run.count();
    const res = await launch(artifactId);
    expect(res.status).toBe(422);
    const body = JSON.stringify(await res.json());
    expect(body).toContain("body.config.distillation.teacherLogits.artifactId");
    expect(body).toMatch(reason);
    expect(await db.run.count()).toBe(before);
  });

  it("a top-k above the stored k is refused at distillation.topK", async () => {
    const res = await launch("tlg_ok", { topK: 50 });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain("body.config.distillation.topK");
  });
});

describe("teacher logits routes", () => {
  it("estimate → (compute only once estimated) → cancel, and the list shows each state", async () => {
    const res = await routes.create(
      post({ teacherModelId: "teacher", k: 16, maxSeqLength: 256 }),
      params({ versionId: "dsv_a" }),
    );
    expect(res.status).toBe(200);
    const { artifact } = await res.json();
    expect(artifact).toMatchObject({
      status: "estimating",
      k: 16,
      maxSeqLength: 256,
      teacherName: "teacher",
    });
    const { getContext } = await import("@/lib/server/context.ts");
    const queued = await getContext().producer.queue(QUEUES.teacherLogits).getJob(`${artifact.id}-estimate`);
    expect(queued?.data).toEqual({ artifactId: artifact.id, workspaceId, phase: "estimate" });

    const early = await routes.action(
      post({ action: "compute" }),
      params({ versionId: "dsv_a", artifactId: artifact.id }),
    );
    expect(early.status).toBe(409);
    // the worker's estimate, as it records it
    await db.teacherLogits.update({
      where: { id: artifact.id },
      data: { status: "estimated", estimate: { rows: 10, positions: 100, bytes: 9000, seconds: 2 } },
    });
    const computed = await routes.action(
      post({ action: "compute" }),
      params({ versionId: "dsv_a", artifactId: artifact.id }),
    );
    expect(computed.status).toBe(200);
    expect((await computed.json()).artifact.status).toBe("queued");
    expect(
      await getContext().producer.queue(QUEUES.teacherLogits).getJob(`${artifact.id}-compute`),
    ).toBeTruthy();

    const cancelled = await routes.action(
      post({ action: "cancel" }),
      params({ versionId: "dsv_a", artifactId: artifact.id }),
    );
    expect((await cancelled.json()).artifact).toMatchObject({ status: "cancelled", cancelRequested: true });

    const list = await (await routes.list(new Request("http://x/"), params({ versionId: "dsv_a" }))).json();
    expect(list.artifacts[0]).toMatchObject({
      id: artifact.id,
      status: "cancelled",
      estimate: { bytes: 9000 },
    });
    expect(list.artifacts.map((a: { id: string }) => a.id)).toContain("tlg_ok");
  });

  it("a teacher not in the workspace is refused naming body.teacherModelId", async () => {
    const res = await routes.create(post({ teacherModelId: "nobody" }), params({ versionId: "dsv_a" }));
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain("body.teacherModelId");
  });

  it("a running computation is cancelled by request (the worker stops it)", async () => {
    const res = await routes.action(
      post({ action: "cancel" }),
      params({ versionId: "dsv_a", artifactId: "tlg_running" }),
    );
    expect((await res.json()).artifact).toMatchObject({ status: "running", cancelRequested: true });
  });

  it("viewers read the list but cannot estimate, compute or cancel", async () => {
    role = "viewer";
    try {
      expect((await routes.list(new Request("http://x/"), params({ versionId: "dsv_a" }))).status).toBe(200);
      expect(
        (await routes.create(post({ teacherModelId: "teacher" }), params({ versionId: "dsv_a" }))).status,
      ).toBe(403);
      expect(
        (
          await routes.action(
            post({ action: "cancel" }),
            params({ versionId: "dsv_a", artifactId: "tlg_ok" }),
          )
        ).status,
      ).toBe(403);
    } finally {
      role = "owner";
    }
  });
});

describe("the run form's artifact picker", () => {
  const draft = (extra: Record<string, unknown> = {}) =>
    post({
      datasetVersionId: "dsv_a",
      student: "student",
      template: "phi3",
      maxSeqLength: 1024,
      specialTokens: [],
      ...extra,
    });
  type Choice = { id: string; versionId: string; refusal: { reason: string; field: string } | null };
  const choices = async (extra: Record<string, unknown> = {}) => {
    const res = await routes.choices(draft(extra));
    expect(res.status).toBe(200);
    return ((await res.json()) as { artifacts: Choice[] }).artifacts;
  };

  it("lists the version's artifacts first, each refused with the launch's own words and field", async () => {
    const list = await choices();
    const byId = Object.fromEntries(list.map((c) => [c.id, c]));
    expect(byId.tlg_ok?.refusal).toBeNull();
    const firstOther = list.findIndex((c) => c.versionId !== "dsv_a");
    expect(list.slice(firstOther).every((c) => c.versionId !== "dsv_a")).toBe(true);
    for (const id of ["tlg_other_version", "tlg_stranger", "tlg_running"]) {
      const refusal = byId[id]?.refusal;
      expect(refusal, id).not.toBeNull();
      // the launch of the same draft answers the same reason at the same field
      const res = await launch(id);
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { errors: { field: string; message: string }[] };
      expect(problem.errors[0]).toEqual({ field: refusal?.field, message: refusal?.reason });
    }
    expect(byId.tlg_stranger?.refusal?.reason).toMatch(/id 1 is "b" in the student and "x" in the teacher/);
  });

  it("follows the draft: a longer max length, another template or a larger top-k refuse the ready one", async () => {
    const at = async (extra: Record<string, unknown>) =>
      (await choices(extra)).find((c) => c.id === "tlg_ok")?.refusal;
    expect(await at({ maxSeqLength: 2048 })).toEqual({
      field: "body.config.training.maxSeqLength",
      reason: "teacher logits tlg_ok cover sequences up to 1024 tokens, the run trains on 2048",
    });
    expect((await at({ template: "chatml" }))?.field).toBe("body.config.data.template");
    expect((await at({ topK: 50 }))?.field).toBe("body.config.distillation.topK");
    expect((await at({ systemPrompt: "be brief" }))?.field).toBe("body.config.data.systemPrompt");
    expect(await at({ topK: 20 })).toBeNull();
    expect((await at({ datasetVersionId: "" }))?.reason).toMatch(/^pick the run's dataset version first/);
  });

  it("a bad draft is a 400 naming the field", async () => {
    const res = await routes.choices(post({ template: "phi3" }));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("body.maxSeqLength");
  });
});

describe("deleting teacher logits", () => {
  const remove = (artifactId: string, versionId = "dsv_a") =>
    routes.remove(new Request("http://x/", { method: "DELETE" }), params({ versionId, artifactId }));
  const files = (id: string) => [
    `teacher-logits/${id}/teacher_logits.safetensors`,
    `teacher-logits/${id}/manifest.json`,
    `teacher-logits/${id}/tokenizer.json`,
  ];
  const exists = (key: string) => existsSync(join(dataDir, "blobs", ...key.split("/")));

  it("is refused with 409 naming the run while a queued or running run reads it, then deletes files and row", async () => {
    await addArtifact("tlg_del", "dsv_a", vocab);
    for (const key of files("tlg_del").slice(0, 2)) writeBlob(key, "x"); // tokenizer.json: addArtifact
    const launched = await launch("tlg_del");
    expect(launched.status).toBe(201);
    const { run } = (await launched.json()) as { run: { id: string } };
    await db.run.update({ where: { id: run.id }, data: { status: "running" } });

    const refused = await remove("tlg_del");
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain(run.id);
    // refused: nothing changed
    expect((await db.teacherLogits.findUnique({ where: { id: "tlg_del" } }))?.status).toBe("ready");
    expect(files("tlg_del").every(exists)).toBe(true);

    await db.run.update({ where: { id: run.id }, data: { status: "succeeded" } });
    const res = await remove("tlg_del");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deleted: { id: "tlg_del", files: 3 } });
    expect(await db.teacherLogits.findUnique({ where: { id: "tlg_del" } })).toBeNull();
    expect(files("tlg_del").some(exists)).toBe(false);
    expect(
      await db.auditEvent.findFirst({ where: { action: "teacher_logits.delete", targetId: "tlg_del" } }),
    ).toMatchObject({ targetType: "teacher_logits", workspaceId });
    // gone: a second delete is a 404, and a launch naming it is refused
    expect((await remove("tlg_del")).status).toBe(404);
    expect((await launch("tlg_del")).status).toBe(422);
  });

  it("is refused with 409 while a worker computes it, and 404 under another version", async () => {
    const res = await remove("tlg_running");
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toMatch(/tlg_running are running: a worker is computing them/);
    expect((await db.teacherLogits.findUnique({ where: { id: "tlg_running" } }))?.status).toBe("running");
    expect((await remove("tlg_other_version", "dsv_a")).status).toBe(404);
  });

  it("viewers cannot delete; members only their own", async () => {
    try {
      role = "viewer";
      expect((await remove("tlg_other_version", "dsv_b")).status).toBe(403);
      role = "member"; // the artifact is nobody's own here
      const res = await remove("tlg_other_version", "dsv_b");
      expect(res.status).toBe(403);
      expect(JSON.stringify(await res.json())).toContain("only its creator or an admin");
    } finally {
      role = "owner";
    }
    expect(await db.teacherLogits.findUnique({ where: { id: "tlg_other_version" } })).not.toBeNull();
  });
});
