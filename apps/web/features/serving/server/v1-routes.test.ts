import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerModelDir } from "@distillery/catalog";
import { createRun, type Db, ensureDefaultWorkspace, newId } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel, runTraining } from "@distillery/engine-local";
import { createFsBlobStore } from "@distillery/storage";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * The web's /v1 route handlers (withRoute, the workspace's model catalog in Postgres, blob
 * storage, the model pool) over real HTTP, driven by the official openai client: a catalog
 * base model and a run's merged model are both served.
 */
const dataDir = mkdtempSync(join(tmpdir(), "v1-routes-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
process.env.DISTILLERY_AUTH = "local";
const store = createFsBlobStore(join(dataDir, "blobs"));
let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
let server: { url: string; close: () => Promise<void> } | undefined;
let client: OpenAI;
let runId = "";
let checkpointId = "";
let signedIn = true;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  const { workspaceId, userId } = await ensureDefaultWorkspace(db);
  const modelDir = join(dataDir, "tiny");
  createTinyModel(modelDir, {
    corpus: Array.from({ length: 40 }, (_, i) => `What is ${i} + 2? It is ${i + 2}.`),
    vocabSize: 280,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxPositions: 256,
    template: "phi3",
  });
  await registerModelDir(db, store, { workspaceId, name: "tiny-base", dir: modelDir });
  // a finished run whose merged model sits in blob storage, as the worker's artifact sync leaves it
  const run = await createRun(db, {
    workspaceId,
    name: "distilled",
    engine: "local",
    config: { data: { template: "phi3" } },
  });
  runId = run.id;
  cpSync(modelDir, join(dataDir, "blobs", "runs", run.id, "artifacts", "merged"), { recursive: true });
  await db.run.update({ where: { id: run.id }, data: { status: "succeeded", finishedAt: new Date() } });
  await db.artifact.create({
    data: {
      id: newId("art"),
      workspaceId,
      runId: run.id,
      kind: "merged",
      name: "merged",
      blobKey: `runs/${run.id}/artifacts/merged`,
    },
  });
  const { serveOverHttp } = await import("@distillery/inference/testing");
  const chat = (await import("@/app/v1/chat/completions/route.ts")).POST;
  const completions = (await import("@/app/v1/completions/route.ts")).POST;
  const models = (await import("@/app/v1/models/route.ts")).GET;
  // after the routes' imports, which wire the app's own resolver (sessions, API tokens)
  // the app's own resolver (Bearer API tokens), behind a switch that signs everyone out
  // a run still training: its last checkpoint (LoRA + the added <think> tokens) on the worker's disk
  const trainData = join(dataDir, "train.jsonl");
  writeFileSync(
    trainData,
    Array.from({ length: 16 }, (_, i) =>
      JSON.stringify({ prompt: `What is ${i} + 2?`, completion: ` It is ${i + 2}.` }),
    ).join("\n"),
  );
  const config = {
    model: { id: "tiny-base" },
    data: { datasetVersionId: "v1", template: "phi3", evalFraction: 0 },
    lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
    training: { maxSteps: 4, perDeviceTrainBatchSize: 2, learningRate: 0.01, loggingSteps: 2 },
  };
  const training = await createRun(db, { workspaceId, name: "still training", engine: "local", config });
  const outDir = join(dataDir, "runs", training.id, "out");
  const checkpoints: { step: number; path: string }[] = [];
  await runTraining(
    {
      runId: training.id,
      config: config as never,
      paths: { baseModel: modelDir, trainData, outDir },
      samplePrompts: [],
    },
    { emit: (e) => e.type === "checkpoint" && checkpoints.push({ step: e.step, path: e.path }) },
  );
  const last = checkpoints.at(-1);
  if (!last) throw new Error("no checkpoint");
  await db.runEvent.create({
    data: {
      workspaceId,
      runId: training.id,
      seq: 0,
      type: "checkpoint",
      step: last.step,
      data: { type: "checkpoint", ...last },
    },
  });
  checkpointId = `${training.id}:checkpoint-${last.step}`;
  const { setActorResolver } = await import("@/lib/server/with-route.ts");
  const { resolveRequestActor } = await import("@/lib/server/actor.ts");
  setActorResolver(async (req) => (signedIn ? resolveRequestActor(req) : null));
  const { createApiToken } = await import("@/features/auth/server/tokens.ts");
  const { addMember } = await import("@/features/auth/server/memberships.ts");
  await addMember(db, workspaceId, userId, "member");
  const { token } = await createApiToken(db, {
    userId,
    workspaceId,
    name: "v1 test",
    scope: "read",
    expiresAt: null,
  });
  server = await serveOverHttp({
    "POST /v1/chat/completions": (req) => chat(req),
    "POST /v1/completions": (req) => completions(req),
    "GET /v1/models": (req) => models(req),
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await server?.close();
  const { getModelPool } = await import("./serving.ts");
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await getModelPool(context ? (await ensureDefaultWorkspace(db)).workspaceId : "").close();
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

describe("/v1 in the web app", () => {
  it("lists the catalog's base model and the run's merged model", async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["tiny-base", runId, checkpointId]));
  });

  it("serves a training checkpoint (the base with its weights, LoRA merged)", async () => {
    const r = await client.chat.completions.create({
      model: checkpointId,
      messages: [{ role: "user", content: "What is 3 + 2?" }],
      max_tokens: 6,
      temperature: 0,
    });
    expect(r.model).toBe(checkpointId);
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
  }, 120_000);

  it("serves both, streamed and not; the model shows as ready once loaded", async () => {
    const base = await client.chat.completions.create({
      model: "tiny-base",
      messages: [{ role: "user", content: "What is 3 + 2?" }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(base.choices[0]?.message.role).toBe("assistant");
    expect(base.usage?.completion_tokens).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({
      model: runId,
      messages: [{ role: "user", content: "What is 3 + 2?" }],
      max_tokens: 8,
      stream: true,
      seed: 3,
    });
    let finish: string | null = null;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    expect(finish).toMatch(/stop|length/);
    const listed = (await client.models.list()).data as unknown as { id: string; status: string }[];
    expect(listed.find((m) => m.id === runId)?.status).toBe("ready");
  }, 120_000);

  it("an unknown model, a bad API token and a signed-out request are OpenAI error objects", async () => {
    const e = await client.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "hi" }] })
      .catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(e.param).toBe("model");
    const stranger = new OpenAI({
      baseURL: `${server?.url}/v1`,
      apiKey: "dst_00000000_not-a-real-token",
      maxRetries: 0,
    });
    const refused = await stranger.models.list().catch((x) => x);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    signedIn = false;
    try {
      const denied = await client.models.list().catch((x) => x);
      expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(denied.error?.type).toBe("authentication_error");
    } finally {
      signedIn = true;
    }
  });
});
