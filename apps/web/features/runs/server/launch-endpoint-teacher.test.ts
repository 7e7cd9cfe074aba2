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
import { createTeacher } from "@distillery/teacher/store";
import { startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "./test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * POST /api/runs with a teacher endpoint (distillation.teacherEndpoint): the endpoint's tokenizer
 * is asked through its /tokenize before the run is queued. The endpoints are the studio's own
 * serving of real tiny models over real HTTP, and the fake teacher (no /tokenize).
 */
process.env.REDIS_URL = "redis://127.0.0.1:1";
const dataDir = mkdtempSync(join(tmpdir(), "distillery-endpoint-launch-"));
process.env.DISTILLERY_DATA_DIR = dataDir;

let POST: (req: Request) => Promise<Response>;
let stopServices: (() => Promise<void>) | undefined;
let db: Db;
let drop: (() => Promise<void>) | undefined;
let workspaceId = "";
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
/** as the web app serves it: /tokenize beside /v1, not at the root */
let v1Only: { url: string; close: () => Promise<void> };
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
  // the student: a catalog model whose tokenizer.json is in the web's blob store
  mkdirSync(join(dataDir, "blobs", "models", "student"), { recursive: true });
  copyFileSync(
    join(studentDir, "tokenizer.json"),
    join(dataDir, "blobs", "models", "student", "tokenizer.json"),
  );
  await db.model.create({
    data: {
      id: "student",
      workspaceId,
      name: "student",
      engines: ["local", "hf"],
      location: "blob:models/student",
    },
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
  server = await serveOverHttp({
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /tokenize": (req) => handleTokenize({ pool }, req),
  });
  v1Only = await serveOverHttp({
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /v1/tokenize": (req) => handleTokenize({ pool }, req),
  });
  // the model processes start before the tests (a loaded teacher answers at once, as vLLM's does)
  for (const model of ["same", "stranger"])
    await fetch(`${server.url}/tokenize`, {
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
      apiKey: "sk-launch-secret",
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    teacherIds[name] = t.id;
  };
  await add("served-same", `${server.url}/v1`, "same");
  await add("served-v1", `${v1Only.url}/v1`, "same");
  await add("served-stranger", `${server.url}/v1`, "stranger");
  await add("no-tokenize", fake.baseUrl, "fake-r1");
  await add("ollama-box", fake.url, "fake-r1", "ollama");
  ({ POST } = await import("@/app/api/runs/route.ts"));
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  setActorResolver(async () => ({ userId: "", workspaceId, name: "T", email: "t@example.com" }));
}, 180_000);

afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  await getContext().db.$disconnect();
  getContext().redis.disconnect();
  await server?.close();
  await v1Only?.close();
  await pool?.close();
  await fake?.close();
  await drop?.();
  await stopServices?.();
});

const launch = (teacher: string, engine = "local", mode = "logit") =>
  POST(
    new Request("http://x/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        config: {
          engine,
          model: { id: "student" },
          data: { datasetVersionId: "dsv_e" },
          distillation: { mode, teacherEndpoint: { teacherId: teacherIds[teacher] ?? teacher } },
        },
      }),
    }),
  );

describe("POST /api/runs with a teacher endpoint", () => {
  it("an endpoint of the same tokenizer is accepted (logit and on-policy)", async () => {
    expect((await launch("served-same")).status).toBe(201);
    expect((await launch("served-same", "local", "on-policy")).status).toBe(201);
    // the web app's own serving has /v1/tokenize (vLLM: /tokenize at the root): both are asked
    expect((await launch("served-v1")).status).toBe(201);
  }, 120_000);

  it("an endpoint of another tokenizer is refused before queueing, naming both and the first differing token", async () => {
    const before = await db.run.count();
    const res = await launch("served-stranger");
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors[0]?.field).toBe("body.config.distillation.teacherEndpoint.teacherId");
    expect(body.errors[0]?.message).toMatch(
      /^the student \(student\) and the teacher \(endpoint "served-stranger", model stranger\) have different tokenizers: token \d+ of the probe text is id \d+ ".*" in the student and id \d+ ".*" in the teacher$/,
    );
    expect(JSON.stringify(body)).not.toContain("sk-launch-secret");
    expect(await db.run.count()).toBe(before);
  }, 120_000);

  it("refuses what cannot be an endpoint teacher, with the reason", async () => {
    const noTokenize = await launch("no-tokenize");
    expect(noTokenize.status).toBe(422);
    expect(JSON.stringify(await noTokenize.json())).toMatch(
      /teacher \\"no-tokenize\\" has no usable POST \/tokenize \(HTTP 404\)/,
    );
    const ollama = await launch("ollama-box");
    expect(JSON.stringify(await ollama.json())).toMatch(
      /speaks ollama's \/api\/chat, which returns no prompt_logprobs/,
    );
    // the GPU trainer asks endpoints too: the same check, the same answer
    expect((await launch("served-same", "hf")).status).toBe(201);
    expect(JSON.stringify(await (await launch("served-stranger", "hf")).json())).toMatch(
      /different tokenizers/,
    );
    const missing = await launch("tch_nobody");
    expect(JSON.stringify(await missing.json())).toMatch(
      /teacher endpoint tch_nobody does not exist in this workspace/,
    );
  });
});
