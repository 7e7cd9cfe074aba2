import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createGpuRegistry,
  createGpuRouting,
  createModelPool,
  createUpstreams,
  type GpuRegistry,
  handleChatCompletions,
  modelsResponse,
  type ServableModel,
  UnknownModelError,
} from "@distillery/inference";
import { serveOverHttp } from "@distillery/inference/testing";
import { createRedisConnection } from "@distillery/jobs";
import { buildHfServeCommand } from "@distillery/trainer-hf";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamSampler } from "../evaluations/upstream-sampler.ts";
import type { GpuServeManagerOptions } from "./gpu-serve-manager.ts";
import { createGpuServeManager } from "./gpu-serve-manager.ts";
import { estimateGpuBytes, startServingWorker } from "./start-serving-worker.ts";

/**
 * GPU serving without a GPU: the worker's real serving code starts the real
 * `python -m distillery_trainer.serve` (under /usr/bin/python3, `--engine scripted`: the whole
 * server process with a scripted answer instead of torch), registers it in a real Redis, and the
 * studio's /v1 handlers route the official `openai` client to it through that registry.
 */
const SCRIPT = "We add 2 and 2.</think>\n\nThe answer is \\boxed{4}.";
const WORKSPACE = "ws_gpu";
const redisUrl = process.env.TEST_REDIS_URL ?? "";
const root = mkdtempSync(join(tmpdir(), "gpu-serving-"));
const logs: string[] = [];
/** every server key seen in the registry: none may show in a log line */
const seenKeys = new Set<string>();

function modelDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.safetensors"), Buffer.alloc(4096));
  writeFileSync(join(dir, "config.json"), "{}");
  return dir;
}

/** the serve command a GPU worker builds, with the scripted engine in place of transformers */
const scriptedCommand =
  (loadSeconds: number, secondsPerToken = 0.003): GpuServeManagerOptions["buildCommand"] =>
  (o) => {
    const cmd = buildHfServeCommand({ ...o, python: "/usr/bin/python3", engine: "transformers" });
    const args = [...cmd.args];
    args[args.indexOf("--engine") + 1] = "scripted";
    args.push(
      // what start-gpu-serving adds for vLLM (transformers and scripted accept and ignore it)
      "--gpu-memory-fraction",
      (o.bytes / 2 ** 34).toFixed(3),
      "--script",
      SCRIPT,
      "--script-delay",
      String(secondsPerToken),
      "--script-load-seconds",
      String(loadSeconds),
    );
    return { ...cmd, args };
  };

/** pids of the serve processes of a model folder (read from /proc, as `ps` would) */
function servePids(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (cmd.includes("distillery_trainer.serve") && cmd.includes(dir)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("GPU serving: a worker starts serve on demand, the studio routes through the registry", () => {
  const prefix = `test-gpu-${randomBytes(4).toString("hex")}`;
  const redis = createRedisConnection(redisUrl, "worker");
  const registry: GpuRegistry = createGpuRegistry(redis, { prefix, staleMs: 3_000 });
  const dirs = { "model-a": modelDir("model-a"), "model-b": modelDir("model-b") };
  const oneModel = estimateGpuBytes(dirs["model-a"]);
  let worker: ReturnType<typeof startServingWorker>;
  let studio: { url: string; close: () => Promise<void> };
  let client: OpenAI;
  let upstreams: ReturnType<typeof createUpstreams>;

  beforeAll(async () => {
    worker = startServingWorker({
      registry,
      blocking: createRedisConnection(redisUrl, "worker"),
      workerId: "wkr_gpu_test",
      host: "test-host",
      bindHost: "127.0.0.1",
      advertiseHost: "127.0.0.1",
      // room for one model: a second one evicts the first
      budgetBytes: Math.floor(oneModel * 1.5),
      resolve: async (_ws, id) => {
        const dir = dirs[id as keyof typeof dirs];
        if (!dir) throw new Error(`unknown model ${id}`);
        return { modelDir: dir, bytes: estimateGpuBytes(dir) };
      },
      buildCommand: scriptedCommand(1.5),
      idleTtlMs: 10 * 60_000,
      heartbeatMs: 300,
      maxRestarts: 1,
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    const pool = createModelPool({
      budgetBytes: 1,
      slots: 1,
      resolve: async (id) => {
        throw new UnknownModelError(id);
      },
    });
    upstreams = createUpstreams({
      ...createGpuRouting({
        workspaceId: WORKSPACE,
        registry,
        isGpuModel: async (id) => id in dirs,
      }),
      probeIntervalMs: 100,
      readyTimeoutMs: 30_000,
    });
    const models: ServableModel[] = Object.keys(dirs).map((id) => ({
      id,
      kind: "base",
      label: id,
      created: 0,
    }));
    const deps = { pool, upstreams };
    studio = await serveOverHttp({
      "POST /v1/chat/completions": (req) => handleChatCompletions(deps, req),
      "GET /v1/models": async () =>
        modelsResponse(models, pool, await upstreams.states(models.map((m) => m.id))),
    });
    client = new OpenAI({ baseURL: `${studio.url}/v1`, apiKey: "studio-token", maxRetries: 0 });
    // the worker announced itself (the studio routes GPU models only when one is alive)
    await until("the worker's announcement", async () => (await registry.workers()).length > 0);
  });

  afterAll(async () => {
    if (process.env.GPU_SERVING_TEST_LOG) writeFileSync(process.env.GPU_SERVING_TEST_LOG, logs.join("\n"));
    await worker?.stop();
    await studio?.close();
    await redis.quit();
    rmSync(root, { recursive: true, force: true });
  });

  const statusOf = async (id: string) => {
    const res = await fetch(`${studio.url}/v1/models`);
    const body = (await res.json()) as { data: { id: string; status: string }[] };
    return body.data.find((m) => m.id === id)?.status;
  };

  it("loads a model on the first request (listed as loading meanwhile), then answers non-stream and stream", async () => {
    expect(await statusOf("model-a")).toBe("unloaded");
    const first = client.chat.completions.create({
      model: "model-a",
      messages: [{ role: "user", content: "What is 2 + 2?" }],
    });
    // the worker started the serve process; it takes 1.5 s to "load the model"
    await until("model-a loading", async () => (await statusOf("model-a")) === "loading");
    const answer = await first;
    const message = answer.choices[0]?.message as { content: string; reasoning_content?: string };
    expect(message.content.trim()).toBe("The answer is \\boxed{4}.");
    expect(message.reasoning_content).toBe("We add 2 and 2.");
    expect(await statusOf("model-a")).toBe("ready");
    const entry = await registry.get(WORKSPACE, "model-a");
    expect(entry?.apiKey).toBeTruthy();
    seenKeys.add(entry?.apiKey ?? "");
    expect(servePids(dirs["model-a"])).toHaveLength(1);

    const stream = await client.chat.completions.create({
      model: "model-a",
      messages: [{ role: "user", content: "again" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let reasoning = "";
    let usage: { completion_tokens: number } | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      content += delta?.content ?? "";
      reasoning += delta?.reasoning_content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content.trim()).toBe("The answer is \\boxed{4}.");
    expect(reasoning).toBe("We add 2 and 2.");
    expect(usage?.completion_tokens).toBe(SCRIPT.length);
    // each request touched the model's last use
    expect(await registry.lastUsed(WORKSPACE, "model-a")).toBeGreaterThan(Date.now() - 60_000);
  });

  it("the evaluation worker's sampler answers a GPU model through the same routing (k samples, reasoning inline)", async () => {
    const sampler = await createUpstreamSampler(upstreams, "model-a");
    expect(sampler).not.toBeNull();
    const samples = await sampler?.sample(
      { messages: [{ role: "user", content: "What is 2 + 2?" }], reference: "4" },
      { temperature: 0.6, topP: 0.95, maxTokens: 256, k: 3, seed: 1 },
      7,
      new AbortController().signal,
    );
    expect(samples).toHaveLength(3);
    for (const s of samples ?? []) {
      expect(s.text).toBe(`<think>${SCRIPT}`);
      expect(s.finishReason).toBe("stop");
      expect(s.completionTokens).toBeGreaterThan(0);
    }
    // a model that is not a GPU model is left to the CPU pool
    expect(await createUpstreamSampler(upstreams, "cpu-model")).toBeNull();
  });

  it("evicts the least recently used model to load another within the budget", async () => {
    const b = await client.chat.completions.create({
      model: "model-b",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(b.choices[0]?.message.content?.trim()).toBe("The answer is \\boxed{4}.");
    expect(worker.manager.list().map((m) => m.modelId)).toEqual(["model-b"]);
    expect(await registry.get(WORKSPACE, "model-a")).toBeNull();
    expect(await statusOf("model-a")).toBe("unloaded");
    await until("model-a's process gone", async () => servePids(dirs["model-a"]).length === 0);
    expect(logs.some((l) => /stopping model-a .*evicted: least recently used/.test(l))).toBe(true);
  });

  it("starts a serve process that dies again once, then reports it failed with its stderr tail", async () => {
    const before = await registry.get(WORKSPACE, "model-b");
    expect(before?.state).toBe("ready");
    for (const pid of servePids(dirs["model-b"])) process.kill(pid, "SIGKILL");
    // restarted: a new server (new port and key) is registered ready
    const again = await until("model-b restarted", async () => {
      const e = await registry.get(WORKSPACE, "model-b");
      return e?.state === "ready" && e.url !== before?.url ? e : null;
    });
    expect(again.apiKey).not.toBe(before?.apiKey);
    seenKeys.add(before?.apiKey ?? "").add(again.apiKey ?? "");
    const c = await client.chat.completions.create({
      model: "model-b",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(c.choices[0]?.message.content?.trim()).toBe("The answer is \\boxed{4}.");

    for (const pid of servePids(dirs["model-b"])) process.kill(pid, "SIGKILL");
    const failed = await until("model-b failed", async () => {
      const e = await registry.get(WORKSPACE, "model-b");
      return e?.state === "failed" ? e : null;
    });
    expect(failed.reason).toMatch(/its serve process was killed \(SIGKILL\)/);
    expect(failed.reason).toContain("[serve] model-b on http://127.0.0.1"); // its stderr tail
    const err = await client.chat.completions
      .create({ model: "model-b", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe("model_load_failed");
    expect((err as Error).message).toContain("SIGKILL");
  });

  it("never logs a server's key (nor the failure reason the studio shows)", async () => {
    expect(seenKeys.size).toBe(3);
    expect(logs.length).toBeGreaterThan(5);
    const failed = await registry.get(WORKSPACE, "model-b");
    for (const key of seenKeys) {
      expect(key.length).toBeGreaterThan(20);
      for (const line of logs) expect(line).not.toContain(key);
      expect(failed?.reason ?? "").not.toContain(key);
    }
  });
});

describe("GPU serve manager: idle TTL, and an eviction that waits for requests in flight", () => {
  it("never evicts a server answering a request: the next load waits for it, then evicts it", async () => {
    const prefix = `test-gpu-${randomBytes(4).toString("hex")}`;
    const redis = createRedisConnection(redisUrl, "worker");
    const registry = createGpuRegistry(redis, { prefix });
    const dirs: Record<string, string> = { "busy-a": modelDir("busy-a"), "busy-b": modelDir("busy-b") };
    const manager = createGpuServeManager({
      registry,
      workerId: "wkr_busy",
      bindHost: "127.0.0.1",
      advertiseHost: "127.0.0.1",
      budgetBytes: Math.floor(estimateGpuBytes(dirs["busy-a"] ?? "") * 1.5),
      resolve: async (_ws, id) => ({ modelDir: dirs[id] ?? "", bytes: estimateGpuBytes(dirs[id] ?? "") }),
      // 50 tokens at 40 ms: a request takes ~2 s
      buildCommand: scriptedCommand(0, 0.04),
      idleTtlMs: 60_000,
      busyWaitMs: 30_000,
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    try {
      await manager.load({ workspaceId: WORKSPACE, modelId: "busy-a" });
      const a = await registry.get(WORKSPACE, "busy-a");
      // a streamed request on busy-a, straight to its server
      const res = await fetch(`${a?.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${a?.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "busy-a", messages: [{ role: "user", content: "hi" }], stream: true }),
      });
      const streamed = res.text();
      await new Promise((r) => setTimeout(r, 300)); // its first tokens are out
      await manager.load({ workspaceId: WORKSPACE, modelId: "busy-b" });
      // the request on busy-a ran to its end before busy-a was evicted
      const text = await streamed;
      expect(text).toContain("data: [DONE]");
      expect(text).toContain('"finish_reason": "stop"');
      expect(text.split("\n\n").filter((e) => e.startsWith("data: {")).length).toBeGreaterThan(
        SCRIPT.length / 2,
      );
      expect(manager.list().map((m) => m.modelId)).toEqual(["busy-b"]);
      expect((await registry.get(WORKSPACE, "busy-b"))?.state).toBe("ready");
      expect(await registry.get(WORKSPACE, "busy-a")).toBeNull();
    } finally {
      await manager.close();
      await redis.quit();
    }
  });

  it("stops a server nobody used for longer than the TTL and removes its entry", async () => {
    const prefix = `test-gpu-${randomBytes(4).toString("hex")}`;
    const redis = createRedisConnection(redisUrl, "worker");
    const registry = createGpuRegistry(redis, { prefix });
    const dir = modelDir("model-idle");
    const manager = createGpuServeManager({
      registry,
      workerId: "wkr_idle",
      bindHost: "127.0.0.1",
      advertiseHost: "127.0.0.1",
      budgetBytes: 10 * 1024 ** 3,
      resolve: async () => ({ modelDir: dir, bytes: estimateGpuBytes(dir) }),
      buildCommand: scriptedCommand(0),
      idleTtlMs: 1_000,
      log: () => {},
    });
    try {
      await manager.load({ workspaceId: WORKSPACE, modelId: "model-idle" });
      expect((await registry.get(WORKSPACE, "model-idle"))?.state).toBe("ready");
      await manager.tick(); // used just now (loaded): kept
      expect(manager.list()).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1_300));
      await manager.tick();
      expect(manager.list()).toHaveLength(0);
      expect(await registry.get(WORKSPACE, "model-idle")).toBeNull();
      await until("the idle process gone", async () => servePids(dir).length === 0);
    } finally {
      await manager.close();
      await redis.quit();
    }
  });
});
