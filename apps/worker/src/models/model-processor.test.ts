import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeSafetensors, type HubTestServer, startHubTestServer } from "@distillery/catalog/testing";
import { createJob, type Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelProcessor } from "./model-processor.ts";

const workerId = "wkr_models";
let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let hub: HubTestServer;
const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "model-blobs-")));
const config = {
  architectures: ["Qwen2ForCausalLM"],
  model_type: "qwen2",
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 32,
  max_position_embeddings: 32768,
};
const weights = encodeSafetensors({
  "model.embed_tokens.weight": { dtype: "BF16", shape: [32, 8] },
  "model.norm.weight": { dtype: "BF16", shape: [8] },
});

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker(workerId));
  hub = await startHubTestServer({
    "acme/q": {
      files: {
        "config.json": Buffer.from(JSON.stringify(config)),
        "model.safetensors": weights,
        "tokenizer_config.json": Buffer.from(JSON.stringify({ eos_token: "<|im_end|>", chat_template: "x" })),
      },
    },
  });
});
afterAll(async () => {
  await hub.close();
  await drop();
});

const asJob = (data: unknown) => ({ data }) as Job;

describe("the models queue's processor", () => {
  it("downloads a Hub model with progress on the Job row, resuming a dropped file, and registers it", async () => {
    const job = await createJob(db, { workspaceId, kind: "model-add", input: { repoId: "acme/q" } });
    hub.dropOnce("acme/q", "model.safetensors", 100);
    const process = createModelProcessor({
      db,
      store,
      workerId,
      workDir: mkdtempSync(join(tmpdir(), "mw-")),
    });
    const result = await process(
      asJob({
        jobId: job.id,
        workspaceId,
        name: "q-tiny",
        source: { kind: "hub", repoId: "acme/q", endpoint: hub.url, token: "hf_never_stored" },
      }),
    );
    const row = await db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("completed");
    expect(JSON.stringify(row)).not.toContain("hf_never_stored");
    const output = row.output as { modelId: string; progress: { bytesDone: number; bytesTotal: number } };
    expect(result).toEqual({ modelId: output.modelId });
    expect(output.progress.bytesDone).toBe(output.progress.bytesTotal);
    const model = await db.model.findUniqueOrThrow({ where: { id: output.modelId } });
    expect(model).toMatchObject({
      name: "q-tiny",
      hubId: "acme/q",
      architecture: "qwen2",
      engines: ["local", "hf"],
    });
    expect(Number(model.parameters)).toBe(32 * 8 + 8);
    expect(model.facts).toMatchObject({
      dtype: "BF16",
      contextLength: 32768,
      specialTokens: { eos: "<|im_end|>" },
    });
    expect(await store.list(`models/${model.id}/`)).toContain(`models/${model.id}/model.safetensors`);
    expect(hub.requests.some((r) => r.range === "bytes=100-")).toBe(true);
  });

  it("fails the job with the Hub's reason, and registers a path in place", async () => {
    const process = createModelProcessor({
      db,
      store,
      workerId,
      workDir: mkdtempSync(join(tmpdir(), "mw-")),
    });
    const bad = await createJob(db, { workspaceId, kind: "model-add", input: {} });
    await process(
      asJob({
        jobId: bad.id,
        workspaceId,
        name: "nope",
        source: { kind: "hub", repoId: "acme/none", endpoint: hub.url },
      }),
    );
    expect(await db.job.findUniqueOrThrow({ where: { id: bad.id } })).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/acme\/none was not found/),
    });

    const dir = mkdtempSync(join(tmpdir(), "model-path-"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...config, model_type: "phi3", architectures: ["Phi3ForCausalLM"] }),
    );
    writeFileSync(join(dir, "model.safetensors"), weights);
    const job = await createJob(db, { workspaceId, kind: "model-add", input: {} });
    await process(
      asJob({ jobId: job.id, workspaceId, name: "on-disk", source: { kind: "path", path: dir } }),
    );
    const model = await db.model.findFirstOrThrow({ where: { workspaceId, name: "on-disk" } });
    expect(model).toMatchObject({ location: dir, engines: ["hf"] });
    expect(model.facts).toMatchObject({ engineReasons: { local: expect.stringMatching(/not phi3/) } });
  });
});
