import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerModelDir } from "@distillery/catalog";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createGpuRegistry, type GpuRegistry } from "@distillery/inference";
import { createRedisConnection } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";

vi.mock("server-only", () => ({}));

/**
 * The web's /v1 routes with DISTILLERY_GPU_SERVERS: a catalog model mapped to a GPU server is
 * forwarded there (with the server's key, not the studio's token); a mapped id that this
 * workspace does not hold is still unknown. The GPU server is a small Node server speaking
 * the protocol (packages/inference's upstream tests run the real Python one).
 */
const dataDir = mkdtempSync(join(tmpdir(), "v1-upstream-"));
process.env.DISTILLERY_DATA_DIR = dataDir;
// the GPU registry's keys live under the queue prefix: one of this file's own
const PREFIX = `test-v1-${randomBytes(4).toString("hex")}`;
process.env.QUEUE_PREFIX = PREFIX;
let registry: GpuRegistry;
let registryRedis: ReturnType<typeof createRedisConnection>;
let workspace = "";
let gpuUrl = "";
let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
let studio: { url: string; close: () => Promise<void> } | undefined;
let gpu: Server;
let client: OpenAI;
const seen: { auth?: string; body: Record<string, unknown> }[] = [];

function startGpuServer(): Promise<string> {
  gpu = createServer(async (req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [{ id: "gpu-base" }, { id: "not-mine" }, { id: "gpu-registered" }],
        }),
      );
      return;
    }
    let text = "";
    for await (const c of req) text += c;
    const body = JSON.parse(text) as Record<string, unknown>;
    seen.push({ auth: req.headers.authorization, body });
    const base = { id: "c1", created: 0, model: body.model };
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const content of ["on ", "the ", "GPU"])
        res.write(
          `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`,
        );
      res.end("data: [DONE]\n\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: "on the GPU" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
      }),
    );
  });
  return new Promise((r) =>
    gpu.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(gpu.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  gpuUrl = await startGpuServer();
  process.env.DISTILLERY_GPU_SERVERS = JSON.stringify({
    "gpu-base": { url: gpuUrl, apiKey: "gpu-key" },
    "not-mine": gpuUrl,
  });
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  const { workspaceId, userId } = await ensureDefaultWorkspace(db);
  workspace = workspaceId;
  const modelDir = join(dataDir, "tiny");
  createTinyModel(modelDir, {
    corpus: ["a b c"],
    vocabSize: 280,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    maxPositions: 64,
    template: "phi3",
  });
  await registerModelDir(db, createFsBlobStore(join(dataDir, "blobs")), {
    workspaceId,
    name: "gpu-base",
    dir: modelDir,
  });
  // a model only the hf engine runs: a GPU worker serves it on demand
  await registerModelDir(db, createFsBlobStore(join(dataDir, "blobs")), {
    workspaceId,
    name: "gpu-registered",
    dir: modelDir,
    engines: ["hf"],
  });
  registryRedis = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
  registry = createGpuRegistry(registryRedis, { prefix: PREFIX });
  const { serveOverHttp } = await import("@distillery/inference/testing");
  const chat = (await import("@/app/v1/chat/completions/route.ts")).POST;
  const models = (await import("@/app/v1/models/route.ts")).GET;
  // a real API token of the workspace (the studio's own, never sent on to the GPU server)
  const { createApiToken } = await import("@/features/auth/server/tokens.ts");
  const { addMember } = await import("@/features/auth/server/memberships.ts");
  await addMember(db, workspaceId, userId, "member");
  const { token } = await createApiToken(db, {
    userId,
    workspaceId,
    name: "v1",
    scope: "read",
    expiresAt: null,
  });
  studio = await serveOverHttp({
    "POST /v1/chat/completions": (req) => chat(req),
    "GET /v1/models": (req) => models(req),
  });
  client = new OpenAI({ baseURL: `${studio.url}/v1`, apiKey: token, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  registryRedis?.disconnect();
  await studio?.close();
  gpu?.closeAllConnections();
  await new Promise((r) => gpu?.close(r));
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const ask = [{ role: "user" as const, content: "where?" }];

describe("/v1 with a model on a GPU server", () => {
  it("lists the model as ready once its server lists it", async () => {
    const list = await client.models.list();
    expect(list.data.find((m) => m.id === "gpu-base")).toMatchObject({ status: "ready" });
    expect(list.data.some((m) => m.id === "not-mine")).toBe(false);
  });

  it("forwards non-stream and stream requests with the server's key", async () => {
    const reply = await client.chat.completions.create({ model: "gpu-base", messages: ask, seed: 1 });
    expect(reply.choices[0]?.message.content).toBe("on the GPU");
    expect(seen.at(-1)).toMatchObject({ auth: "Bearer gpu-key", body: { model: "gpu-base", seed: 1 } });
    const stream = await client.chat.completions.create({ model: "gpu-base", messages: ask, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe("on the GPU");
  });

  it("a mapped id this workspace does not hold is unknown", async () => {
    const before = seen.length;
    const err = await client.chat.completions.create({ model: "not-mine", messages: ask }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe("model_not_found");
    expect(seen.length).toBe(before);
  });
});

describe("/v1 with a GPU model that GPU workers serve on demand (the registry in Redis)", () => {
  const statusOf = async (id: string) => (await client.models.list()).data.find((m) => m.id === id);

  it("asks a GPU worker to load it, lists it as loading, and forwards once the worker registers it", async () => {
    // a GPU worker is alive (its own heartbeat); no server for the model yet
    await registry.putWorker({
      workerId: "wkr_gpu",
      host: "gpu-1",
      budgetBytes: 2 ** 34,
      heartbeatAt: Date.now(),
    });
    expect(await statusOf("gpu-registered")).toMatchObject({ status: "unloaded" });
    const reply = client.chat.completions.create({ model: "gpu-registered", messages: ask });
    // the worker's side, played here: take the request, register the server loading, then ready
    const blocking = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const request = await registry.takeLoadRequest(blocking, 10);
    blocking.disconnect();
    expect(request).toMatchObject({ workspaceId: workspace, modelId: "gpu-registered" });
    expect(await statusOf("gpu-registered")).toMatchObject({ status: "loading" });
    const entry = {
      workspaceId: workspace,
      modelId: "gpu-registered",
      url: gpuUrl,
      apiKey: "registered-key",
      workerId: "wkr_gpu",
      bytes: 1,
      state: "loading" as const,
      heartbeatAt: Date.now(),
      startedAt: Date.now(),
    };
    await registry.put(entry);
    await registry.clearPending(workspace, "gpu-registered");
    expect(await statusOf("gpu-registered")).toMatchObject({ status: "loading" });
    await registry.put({ ...entry, state: "ready", heartbeatAt: Date.now() });
    expect((await reply).choices[0]?.message.content).toBe("on the GPU");
    // the registered server's own key, never the studio's token
    expect(seen.at(-1)).toMatchObject({ auth: "Bearer registered-key", body: { model: "gpu-registered" } });
    expect(await statusOf("gpu-registered")).toMatchObject({ status: "ready" });
    // the request was a use: the workers evict the least recently used model first
    expect(await registry.lastUsed(workspace, "gpu-registered")).toBeGreaterThan(Date.now() - 60_000);
  });

  it("a server its worker marked failed: 503 model_load_failed with the reason", async () => {
    await registry.put({
      workspaceId: workspace,
      modelId: "gpu-registered",
      url: "",
      workerId: "wkr_gpu",
      bytes: 1,
      state: "failed",
      reason: "its serve process was killed (SIGKILL): CUDA out of memory",
      heartbeatAt: Date.now(),
      startedAt: Date.now(),
    });
    const err = await client.chat.completions
      .create({ model: "gpu-registered", messages: ask })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("model_load_failed");
    expect(err.message).toContain("CUDA out of memory");
  });
});
