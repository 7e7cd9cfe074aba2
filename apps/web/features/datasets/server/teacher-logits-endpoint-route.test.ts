import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import {
  createModelPool,
  handleCompletions,
  handleTokenize,
  type ModelPool,
  UnknownModelError,
} from "@distillery/inference";
import { serveOverHttp } from "@distillery/inference/testing";
import { QUEUES } from "@distillery/jobs";
import { createTeacher } from "@distillery/teacher/store";
import { startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * POST /api/dataset-versions/:v/teacher-logits with `teacherEndpointId`: the endpoint's tokenizer
 * is asked through its /tokenize before the estimate is queued (the run launch's check), against
 * the studio's own serving of real tiny models over real HTTP, the fake teacher (no /tokenize),
 * real Postgres and Redis (no worker consumes this test's queue prefix).
 */
const dataDir = mkdtempSync(join(tmpdir(), "teacher-logits-endpoint-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.QUEUE_PREFIX = `tle${randomBytes(3).toString("hex")}`;

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;
let create: Handler;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let role: "viewer" | "member" | "owner" = "owner";
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
let fake: Awaited<ReturnType<typeof startFakeTeacher>>;
const teacherIds: Record<string, string> = {};

function tinyModel(name: string, corpus: string[]): string {
  const dir = join(dataDir, "src", name);
  createTinyModel(dir, {
    corpus,
    vocabSize: 320,
    hiddenSize: 16,
    numLayers: 1,
    numHeads: 2,
    maxPositions: 64,
    extraSpecialTokens: ["<think>", "</think>"],
    seed: 1,
  });
  return dir;
}

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  const sums = Array.from({ length: 40 }, (_, i) => `What is ${i} + ${i + 2}? It is ${2 * i + 2}.`);
  const words = Array.from({ length: 40 }, (_, i) => `colour ${i}: red, green, blue, orange ${i * 7}`);
  const studentDir = tinyModel("student", sums);
  const dirs: Record<string, string> = {
    same: tinyModel("same", sums),
    stranger: tinyModel("stranger", words),
  };
  mkdirSync(join(dataDir, "blobs", "models", "student"), { recursive: true });
  copyFileSync(
    join(studentDir, "tokenizer.json"),
    join(dataDir, "blobs", "models", "student", "tokenizer.json"),
  );
  // the tokenizer model need not run on the CPU engine: the endpoint does the scoring
  await db.model.create({
    data: { id: "student", workspaceId, name: "student", engines: ["hf"], location: "blob:models/student" },
  });
  await db.dataset.create({ data: { id: "ds_e", workspaceId, name: "sums" } });
  await db.datasetVersion.create({
    data: { id: "dsv_e", workspaceId, datasetId: "ds_e", version: 1, operation: {}, rowCount: 10 },
  });
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 1,
    threads: 1,
    resolve: async (id) => {
      const modelDir = dirs[id];
      if (!modelDir) throw new UnknownModelError(id);
      return { modelDir, templateId: "phi3" };
    },
  });
  // as the web app serves it: /tokenize beside /v1, and the root's /tokenize a sign-in redirect
  server = await serveOverHttp({
    "POST /tokenize": async () => new Response(null, { status: 307, headers: { location: "/sign-in" } }),
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /v1/tokenize": (req) => handleTokenize({ pool }, req),
  });
  for (const model of ["same", "stranger"])
    await fetch(`${server.url}/v1/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "warm up" }),
    });
  fake = await startFakeTeacher({ isWithoutPromptLogprobs: true });
  const { getTeacherSecretKey } = await import("@/features/teachers/server/teacher-secret-key.ts");
  const key = getTeacherSecretKey();
  const add = async (name: string, baseUrl: string, model: string, api: "openai" | "ollama" = "openai") => {
    const t = await createTeacher(db, key, {
      workspaceId,
      name,
      api,
      baseUrl,
      model,
      apiKey: "sk-artifact-secret",
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    teacherIds[name] = t.id;
  };
  await add("served-same", `${server.url}/v1`, "same");
  await add("served-stranger", `${server.url}/v1`, "stranger");
  await add("no-tokenize", fake.baseUrl, "fake-r1");
  await add("ollama-box", fake.url, "fake-r1", "ollama");
  create = (await import("@/app/api/dataset-versions/[versionId]/teacher-logits/route.ts")).POST;
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com", role }));
}, 180_000);

afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.queue(QUEUES.teacherLogits).obliterate({ force: true });
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await server?.close();
  await pool?.close();
  await fake?.close();
  await drop?.();
  await stopServices?.();
});

const estimate = (teacher: string, extra: Record<string, unknown> = {}) =>
  create(
    new Request("http://x/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        teacherModelId: "student",
        teacherEndpointId: teacherIds[teacher] ?? teacher,
        k: 4,
        ...extra,
      }),
    }),
    { params: Promise.resolve({ versionId: "dsv_e" }) },
  );

type Refusal = { errors: { field: string; message: string }[] };

describe("teacher logits from a teacher endpoint (web route)", () => {
  it("an endpoint sharing the model's tokenizer: the row names it and its estimate is queued", async () => {
    const res = await estimate("served-same");
    expect(res.status).toBe(200);
    const { artifact } = (await res.json()) as {
      artifact: { id: string; teacherEndpointId: string; teacherName: string; status: string };
    };
    expect(artifact.teacherEndpointId).toBe(teacherIds["served-same"]);
    expect(artifact.teacherName).toBe("endpoint served-same (same)");
    expect(artifact.status).toBe("estimating");
    const row = await db.teacherLogits.findUniqueOrThrow({ where: { id: artifact.id } });
    expect(row.teacherEndpointId).toBe(teacherIds["served-same"]);
    expect(row.teacherModelId).toBe("student");
    const { getContext } = await import("@/lib/server/context.ts");
    const job = await getContext().producer.queue(QUEUES.teacherLogits).getJob(`${artifact.id}-estimate`);
    expect(job?.data).toMatchObject({ artifactId: artifact.id, phase: "estimate" });
  }, 120_000);

  it("another tokenizer is refused before anything is queued, naming both and the first differing token", async () => {
    const before = await db.teacherLogits.count();
    const res = await estimate("served-stranger");
    expect(res.status).toBe(422);
    const body = (await res.json()) as Refusal;
    expect(body.errors[0]?.field).toBe("body.teacherEndpointId");
    expect(body.errors[0]?.message).toMatch(
      /^the student \(student\) and the teacher \(endpoint "served-stranger", model stranger\) have different tokenizers: token \d+ of the probe text is id \d+ ".*" in the student and id \d+ ".*" in the teacher$/,
    );
    expect(JSON.stringify(body)).not.toContain("sk-artifact-secret");
    expect(await db.teacherLogits.count()).toBe(before);
  }, 120_000);

  it("refuses what cannot score the rows, with the reason, and keeps the write permission", async () => {
    const before = await db.teacherLogits.count();
    expect(JSON.stringify(await (await estimate("no-tokenize")).json())).toMatch(
      /teacher \\"no-tokenize\\" has no usable POST \/tokenize \(HTTP 404\)/,
    );
    expect(JSON.stringify(await (await estimate("ollama-box")).json())).toMatch(
      /speaks ollama's \/api\/chat, which returns no prompt_logprobs/,
    );
    expect(JSON.stringify(await (await estimate("tch_nobody")).json())).toMatch(
      /teacher endpoint tch_nobody does not exist in this workspace/,
    );
    const noModel = await estimate("served-same", { teacherModelId: "mdl_nobody" });
    expect(JSON.stringify(await noModel.json())).toMatch(/tokenizer model mdl_nobody does not exist/);
    role = "viewer";
    try {
      expect((await estimate("served-same")).status).toBe(403);
    } finally {
      role = "owner";
    }
    expect(await db.teacherLogits.count()).toBe(before);
  }, 120_000);
});
