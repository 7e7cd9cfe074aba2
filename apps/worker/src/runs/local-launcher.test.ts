import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import { type CanonicalExample, ZRunConfig } from "@distillery/core";
import { createRun, type Db, listRunEvents } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createRedisConnection } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalLauncher } from "./local-launcher.ts";
import { createRunProcessor } from "./process-run.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "local-run-"));
const store = createFsBlobStore(join(root, "blobs"));
const publisher = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
const example = (a: number, b: number): CanonicalExample => ({
  messages: [{ role: "user", content: `What is ${a} + ${b}?` }],
  reasoning: `${a} + ${b} = ${a + b}`,
  answer: String(a + b),
  think: "ok",
});

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
});
afterAll(async () => {
  await drop();
  publisher.disconnect();
});

describe("local launcher", () => {
  it("trains a real tiny model on a dataset version and leaves an adapter", async () => {
    const modelDir = join(root, "tiny");
    const corpus = Array.from(
      { length: 50 },
      (_, i) => `What is ${i} + ${i + 1}? ${i} + ${i + 1} = ${2 * i + 1}`,
    );
    createTinyModel(modelDir, {
      corpus,
      vocabSize: 300,
      hiddenSize: 32,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 128,
    });
    // a Hub id, as a model added from the Hub has: the adapter must name it, not the catalog id
    const model = await registerModelDir(db, store, {
      workspaceId,
      name: "tiny",
      dir: modelDir,
      hubId: "example-org/tiny-sums-base",
    });
    const ds = await ensureDataset(db, { workspaceId, name: "sums" });
    const version = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
      write: async (sink) => {
        await sink.write(Array.from({ length: 24 }, (_, i) => example(i, i + 1)));
        return {};
      },
    });
    const config = ZRunConfig.parse({
      engine: "local",
      model: { id: model.id },
      data: { datasetVersionId: version.id, template: "phi3", evalFraction: 0.2 },
      lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
      training: {
        maxSteps: 4,
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 1,
        learningRate: 1e-2,
        loggingSteps: 1,
        evalStrategy: "steps",
        evalSteps: 2,
        saveStrategy: "steps",
        saveSteps: 2,
        maxSeqLength: 96,
      },
      sampling: { prompts: ["What is 2 + 3?"], everySteps: 2, maxNewTokens: 8, temperature: 0 },
      output: { registerModelAs: "tiny-sums-student" },
    });
    const run = await createRun(db, {
      workspaceId,
      name: "local",
      engine: "local",
      config,
      modelId: model.id,
      datasetVersionId: version.id,
    });
    const processor = createRunProcessor({
      db,
      log: pino({ level: "silent" }),
      workerId: "w1",
      publisher,
      queuePrefix: "t",
      dataDir: join(root, "data"),
      heartbeatMs: 500,
      launchers: new Map([["local", createLocalLauncher({ store, cacheDir: join(root, "cache") })]]),
      store,
      shutdownSignal: new AbortController().signal,
      enqueueRun: async () => {},
    });
    const result = await processor({ data: { runId: run.id, workspaceId } } as unknown as Job);
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.error).toBeNull();
    expect(result).toEqual({ status: "succeeded" });
    const events = await listRunEvents(db, run.id);
    const metrics = events.filter((e) => e.type === "metric");
    expect(metrics.length).toBeGreaterThanOrEqual(4);
    expect(metrics.some((e) => e.type === "metric" && "eval_loss" in e.values)).toBe(true);
    expect(events.some((e) => e.type === "sample" && e.prompt === "What is 2 + 3?")).toBe(true);
    const adapter = events.find((e) => e.type === "artifact" && e.kind === "adapter");
    expect(
      adapter && adapter.type === "artifact" && existsSync(join(adapter.path, "adapter_model.safetensors")),
    ).toBe(true);
    if (adapter?.type === "artifact") {
      const adapterConfig = JSON.parse(readFileSync(join(adapter.path, "adapter_config.json"), "utf8"));
      expect(adapterConfig.base_model_name_or_path).toBe("example-org/tiny-sums-base");
    }
    expect(events.filter((e) => e.type === "done")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: "log",
      message: expect.stringMatching(/^registered the trained model as tiny-sums-student/),
    });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const artifacts = await db.artifact.findMany({ where: { runId: run.id } });
    expect(artifacts.map((a) => a.kind).sort()).toEqual(expect.arrayContaining(["adapter", "merged"]));
    const registered = await db.model.findFirstOrThrow({ where: { workspaceId, name: "tiny-sums-student" } });
    expect(row.summary).toMatchObject({ registeredModelId: registered.id });
    expect(await store.list(`${registered.location?.slice(5)}/`)).toContain(
      `${registered.location?.slice(5)}/model.safetensors`,
    );
    const adapterKeys = await store.list(`runs/${run.id}/artifacts/adapter/`);
    expect(adapterKeys).toContain(`runs/${run.id}/artifacts/adapter/adapter_model.safetensors`);
  });
});
