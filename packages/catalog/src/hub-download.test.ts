import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadHubModel, type HubDownloadProgress, listHubFiles } from "./hub-download.ts";
import { inspectModelDir, trainableEngines } from "./inspect-model-dir.ts";
import { encodeSafetensors, type HubTestServer, startHubTestServer } from "./testing/hub-test-server.ts";

const config = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 64,
  max_position_embeddings: 2048,
  torch_dtype: "bfloat16",
};
const shard1 = encodeSafetensors({
  "model.embed_tokens.weight": { dtype: "BF16", shape: [64, 16] },
  "model.layers.0.self_attn.q_proj.weight": { dtype: "BF16", shape: [16, 16] },
});
const shard2 = encodeSafetensors({
  "lm_head.weight": { dtype: "BF16", shape: [64, 16] },
  "model.norm.weight": { dtype: "F32", shape: [16] },
});
const files: Record<string, Buffer> = {
  "config.json": Buffer.from(JSON.stringify(config)),
  "model-00001-of-00002.safetensors": shard1,
  "model-00002-of-00002.safetensors": shard2,
  "model.safetensors.index.json": Buffer.from('{"weight_map":{}}'),
  "tokenizer.json": Buffer.from(JSON.stringify({ model: { type: "BPE", vocab: {} }, added_tokens: [] })),
  "tokenizer_config.json": Buffer.from(
    JSON.stringify({
      chat_template: "{% for m in messages %}{{ m.content }}{% endfor %}",
      bos_token: "<s>",
      eos_token: { content: "</s>", special: true },
      added_tokens_decoder: {
        "0": { content: "<|im_start|>", special: true },
        "1": { content: "hi", special: false },
      },
    }),
  ),
  "pytorch_model.bin": Buffer.from("not wanted"),
  "onnx/model.onnx": Buffer.from("not wanted either"),
};

let hub: HubTestServer;
beforeAll(async () => {
  hub = await startHubTestServer(
    { "acme/tiny-llama": { files }, "acme/gated": { files, token: "hf_secret_token" } },
    { pageSize: 3 },
  );
});
afterAll(() => hub.close());

describe("downloadHubModel against a server that serves the Hub's routes", () => {
  it("lists every file across pages, with LFS sha256 for the weights", async () => {
    const listed = await listHubFiles({ endpoint: hub.url, repoId: "acme/tiny-llama" });
    expect(listed.map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
    const shard = listed.find((f) => f.path === "model-00001-of-00002.safetensors");
    expect(shard?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.find((f) => f.path === "config.json")?.gitSha1).toMatch(/^[0-9a-f]{40}$/);
    expect(hub.requests.filter((r) => r.path.includes("/tree/")).length).toBeGreaterThanOrEqual(3);
  });

  it("downloads the model files, resumes a file after a dropped connection with Range, and checks sums", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    hub.dropOnce("acme/tiny-llama", "model-00002-of-00002.safetensors", 500);
    const progress: HubDownloadProgress[] = [];
    const before = hub.requests.length;
    const { files: got } = await downloadHubModel({
      endpoint: hub.url,
      repoId: "acme/tiny-llama",
      dir,
      onProgress: (p) => progress.push({ ...p }),
    });
    expect(got.map((f) => f.path).sort()).toEqual(
      Object.keys(files)
        .filter((p) => !p.endsWith(".bin") && !p.startsWith("onnx/"))
        .sort(),
    );
    for (const f of got) expect(readFileSync(join(dir, f.path)).equals(files[f.path] as Buffer)).toBe(true);
    expect(existsSync(join(dir, "pytorch_model.bin"))).toBe(false);
    // the second request for the shard asked for the rest only
    const shardRequests = hub.requests.slice(before).filter((r) => r.path.startsWith("/cdn/"));
    expect(shardRequests.some((r) => r.range === "bytes=500-")).toBe(true);
    const last = progress.at(-1);
    expect(last).toMatchObject({ filesDone: got.length, filesTotal: got.length });
    expect(last?.bytesDone).toBe(last?.bytesTotal);
    expect(Math.max(...progress.map((p) => p.bytesDone))).toBe(last?.bytesTotal);
  });

  it("resumes a partial file left by an earlier attempt (a restarted job)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    const name = "model-00001-of-00002.safetensors";
    writeFileSync(join(dir, `${name}.incomplete`), shard1.subarray(0, 300));
    const before = hub.requests.length;
    await downloadHubModel({ endpoint: hub.url, repoId: "acme/tiny-llama", dir });
    expect(readFileSync(join(dir, name)).equals(shard1)).toBe(true);
    expect(hub.requests.slice(before).some((r) => r.range === "bytes=300-")).toBe(true);
  });

  it("deletes a file whose checksum does not match and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    hub.corrupt("acme/gated", "model-00002-of-00002.safetensors");
    await expect(
      downloadHubModel({ endpoint: hub.url, repoId: "acme/gated", token: "hf_secret_token", dir }),
    ).rejects.toThrow(/model-00002-of-00002.safetensors: checksum mismatch \(sha256/);
    expect(existsSync(join(dir, "model-00002-of-00002.safetensors"))).toBe(false);
    expect(existsSync(join(dir, "model-00002-of-00002.safetensors.incomplete"))).toBe(false);
  });

  it("names a refused token without repeating it, and an unknown repo", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    const err = await downloadHubModel({
      endpoint: hub.url,
      repoId: "acme/gated",
      token: "wrong",
      dir,
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/refused access to acme\/gated \(HTTP 401\)/);
    expect((err as Error).message).not.toContain("wrong");
    await expect(downloadHubModel({ endpoint: hub.url, repoId: "acme/missing", dir })).rejects.toThrow(
      /acme\/missing was not found/,
    );
    await expect(downloadHubModel({ endpoint: hub.url, repoId: "not an id", dir })).rejects.toThrow(
      /not a Hub model id/,
    );
  });
});

describe("inspectModelDir", () => {
  it("reads parameters and dtype from the safetensors headers, context, template and special tokens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    await downloadHubModel({ endpoint: hub.url, repoId: "acme/tiny-llama", dir });
    const facts = inspectModelDir(dir);
    expect(facts).toMatchObject({
      architecture: "llama",
      className: "LlamaForCausalLM",
      parameters: 64 * 16 + 16 * 16 + 64 * 16 + 16,
      parametersFrom: "safetensors",
      dtype: "BF16",
      contextLength: 2048,
      chatTemplate: "{% for m in messages %}{{ m.content }}{% endfor %}",
      specialTokens: { bos: "<s>", eos: "</s>", pad: null, unk: null, added: ["<|im_start|>"] },
      hasTokenizer: true,
    });
    expect(trainableEngines(facts)).toEqual({ engines: ["local", "hf"], reasons: {} });
  });

  it("says why an engine cannot train a model", () => {
    expect(
      trainableEngines({ architecture: "phi3", className: "Phi3ForCausalLM", parameters: 3.8e9 }),
    ).toEqual({
      engines: ["hf"],
      reasons: { local: "the CPU engine implements llama, qwen2, qwen3, not phi3" },
    });
    expect(
      trainableEngines({ architecture: "qwen2", className: "Qwen2ForCausalLM", parameters: 7.6e9 }).reasons
        .local,
    ).toMatch(/7.6B parameters is over the CPU engine's 1B/);
    expect(
      trainableEngines({ architecture: "bert", className: "BertModel", parameters: 1e8 }).reasons.hf,
    ).toMatch(/not a causal language model/);
  });

  it("refuses a file that is not safetensors, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-dl-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    writeFileSync(join(dir, "model.safetensors"), "garbage garbage garbage");
    expect(() => inspectModelDir(dir)).toThrow(/model.safetensors: not a safetensors file/);
  });
});
