import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTinyModel } from "@distillery/engine-local";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelPool, type ModelPool } from "../pool/model-pool.ts";
import { UnknownModelError } from "../pool/servable-models.ts";
import { serveOverHttp } from "../testing/serve-over-http.ts";
import { handleChatCompletions, handleCompletions, modelsResponse } from "./handle-v1.ts";

/**
 * The /v1 handlers over real HTTP with the official `openai` client, a real tiny Llama model
 * in a real model process (its continuous batching loop), no mocks.
 */
const dir = mkdtempSync(join(tmpdir(), "inference-openai-"));
const modelDir = join(dir, "tiny");
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
let client: OpenAI;

beforeAll(async () => {
  createTinyModel(modelDir, {
    corpus: Array.from({ length: 60 }, (_, i) => `What is ${i} + ${i + 3}? The answer is ${2 * i + 3}.`),
    vocabSize: 300,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxPositions: 1024,
    template: "phi3",
    seed: 5,
  });
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 4,
    threads: 1,
    resolve: async (id) => {
      if (id !== "tiny") throw new UnknownModelError(id);
      return { modelDir, templateId: "phi3" };
    },
  });
  server = await serveOverHttp({
    "POST /v1/chat/completions": (req) => handleChatCompletions({ pool }, req),
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "GET /v1/models": async () =>
      modelsResponse([{ id: "tiny", kind: "base", label: "tiny", created: 0 }], pool),
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-token", maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = [{ role: "user" as const, content: "What is 4 + 7?" }];

describe("/v1 with the openai client", () => {
  it("lists the model, unloaded until first used", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["tiny"]);
    expect((models.data[0] as unknown as { status: string }).status).toBe("unloaded");
  });

  it("answers a chat completion with usage; greedy is deterministic and a seed reproduces sampling", async () => {
    const a = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 12,
      temperature: 0,
    });
    const b = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 12,
      temperature: 0,
    });
    expect(a.object).toBe("chat.completion");
    expect(a.choices[0]?.message.role).toBe("assistant");
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    expect(a.usage?.completion_tokens).toBeGreaterThan(0);
    expect(a.usage?.completion_tokens).toBeLessThanOrEqual(12);
    expect(a.usage?.total_tokens).toBe((a.usage?.prompt_tokens ?? 0) + (a.usage?.completion_tokens ?? 0));
    if (a.usage?.completion_tokens === 12) expect(a.choices[0]?.finish_reason).toBe("length");
    const s1 = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 16,
      temperature: 1,
      seed: 42,
    });
    const s2 = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 16,
      temperature: 1,
      seed: 42,
    });
    expect(s1.choices[0]?.message.content).toBe(s2.choices[0]?.message.content);
  });

  it("n > 1 gives n choices, sampled differently, counted in usage", async () => {
    const r = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 20,
      n: 3,
      temperature: 1.5,
      seed: 1,
    });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(r.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    expect(r.usage?.completion_tokens).toBeGreaterThan(3);
  });

  it("logprobs with top_logprobs: each token's logprob is among its alternatives, best first", async () => {
    const r = await client.chat.completions.create({
      model: "tiny",
      messages: ask,
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = r.choices[0]?.logprobs?.content ?? [];
    expect(content.length).toBe(r.usage?.completion_tokens);
    for (const t of content) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(3);
      // greedy: the chosen token is the most likely one
      expect(t.top_logprobs[0]?.logprob).toBeCloseTo(t.logprob, 5);
      expect(t.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(t.top_logprobs[1]!.logprob);
    }
    expect(content.map((t) => t.token).join("")).toBe(r.choices[0]?.message.content);
  });

  it("streams chunks whose text equals the non-streamed answer, then usage", async () => {
    const settings = { model: "tiny", messages: ask, max_tokens: 15, temperature: 1, seed: 11 };
    const whole = await client.chat.completions.create(settings);
    expect(whole.usage?.completion_tokens).toBeGreaterThan(2);
    const stream = await client.chat.completions.create({
      ...settings,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBe(whole.choices[0]?.finish_reason);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it("max_tokens is exact: every token up to the last arrives, streamed or not", async () => {
    const settings = {
      model: "tiny",
      messages: ask,
      max_tokens: 9,
      temperature: 1,
      seed: 5,
      logprobs: true,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const whole = await client.chat.completions.create(settings);
    expect(whole.usage?.completion_tokens).toBe(9);
    expect(whole.choices[0]?.logprobs?.content).toHaveLength(9);
    expect(whole.choices[0]?.finish_reason).toBe("length");
    const stream = await client.chat.completions.create({
      ...settings,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let entries = 0;
    for await (const chunk of stream) entries += chunk.choices[0]?.logprobs?.content?.length ?? 0;
    expect(entries).toBe(9);
  });

  it("legacy completions with logprobs", async () => {
    const r = await client.completions.create({
      model: "tiny",
      prompt: "What is 2 + 5?",
      max_tokens: 5,
      temperature: 0,
      logprobs: 2,
    });
    expect(r.object).toBe("text_completion");
    expect(r.choices[0]?.logprobs?.tokens?.join("")).toBe(r.choices[0]?.text);
    expect(Object.keys(r.choices[0]?.logprobs?.top_logprobs?.[0] ?? {}).length).toBeGreaterThan(0);
  });

  it("a client that stops reading mid-stream frees its slot at once", async () => {
    const model = await pool.acquire("tiny");
    const cancelledBefore = model.backend.finished.cancelled;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      // ignore_eos (vLLM's extension): the sequence cannot end on its own before the client leaves
      {
        model: "tiny",
        messages: ask,
        max_tokens: 1000,
        temperature: 1,
        seed: 11,
        stream: true,
        ignore_eos: true,
      } as OpenAI.ChatCompletionCreateParamsStreaming,
      { signal: controller.signal },
    );
    let seen = 0;
    // the openai client ends the iteration quietly when its request is aborted
    for await (const _ of stream) {
      if (++seen === 3) {
        controller.abort();
        break;
      }
    }
    expect(seen).toBe(3);
    for (let i = 0; i < 200 && model.backend.activeCount > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(model.backend.activeCount).toBe(0);
    // the model process ended the sequence as cancelled, not by running out its 1000 tokens
    for (let i = 0; i < 200 && model.backend.finished.cancelled === cancelledBefore; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(model.backend.finished).toMatchObject({ cancelled: cancelledBefore + 1 });
    // and the model still serves
    const after = await client.chat.completions.create({ model: "tiny", messages: ask, max_tokens: 3 });
    expect(after.choices[0]?.finish_reason).toBeTruthy();
  });

  it("serves more concurrent requests than it has slots, all answered", async () => {
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        client.chat.completions.create({
          model: "tiny",
          messages: ask,
          max_tokens: 10,
          temperature: 1,
          seed: i,
        }),
      ),
    );
    expect(results.every((r) => (r.usage?.completion_tokens ?? 0) > 0)).toBe(true);
  });
});

describe("/v1 bad input: OpenAI error objects naming the field", () => {
  const expectError = async (p: Promise<unknown>, status: number, param: string | null, code?: string) => {
    const e = (await p.then(
      () => null,
      (x: unknown) => x,
    )) as InstanceType<typeof OpenAI.APIError> | null;
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e?.status).toBe(status);
    expect(e?.param ?? null).toBe(param);
    if (code) expect(e?.code).toBe(code);
  };
  it("an unknown model is a 404 model_not_found", async () => {
    await expectError(
      client.chat.completions.create({ model: "nope", messages: ask }),
      404,
      "model",
      "model_not_found",
    );
  });
  it("max_tokens <= 0 is a 400 naming max_tokens", async () => {
    await expectError(
      client.chat.completions.create({ model: "tiny", messages: ask, max_tokens: 0 }),
      400,
      "max_tokens",
    );
  });
  it("a prompt over the model's context is a 400 context_length_exceeded", async () => {
    const long = "What is 1 + 2? ".repeat(600);
    await expectError(
      client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: long }] }),
      400,
      "messages",
      "context_length_exceeded",
    );
  });
  it("a bad message role names the field; a malformed body names the body", async () => {
    await expectError(
      client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "robot", content: "hi" }] as never,
      }),
      400,
      "messages[0].role",
    );
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: "{not json" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; type: string } };
    expect(body.error).toMatchObject({ param: "body", type: "invalid_request_error" });
  });
});

describe("/v1 on onnxruntime-node", () => {
  it("serves the same greedy answer as the engine, batched", async () => {
    const ortPool = createModelPool({
      budgetBytes: 1 << 30,
      slots: 4,
      threads: 1,
      backend: "ort",
      resolve: async () => ({ modelDir, templateId: "phi3" }),
    });
    try {
      const ortServer = await serveOverHttp({
        "POST /v1/chat/completions": (req) => handleChatCompletions({ pool: ortPool }, req),
      });
      const ortClient = new OpenAI({ baseURL: `${ortServer.url}/v1`, apiKey: "x", maxRetries: 0 });
      const settings = { model: "tiny", messages: ask, max_tokens: 16, temperature: 0 };
      const [viaOrt, viaEngine] = await Promise.all([
        Promise.all([1, 2, 3].map(() => ortClient.chat.completions.create(settings))),
        client.chat.completions.create(settings),
      ]);
      expect((await ortPool.acquire("tiny")).backend.name).toBe("ort");
      for (const r of viaOrt)
        expect(r.choices[0]?.message.content).toBe(viaEngine.choices[0]?.message.content);
      await ortServer.close();
    } finally {
      await ortPool.close();
    }
  });
});

describe("the model pool", () => {
  it("loads a model again when its process died", async () => {
    const model = await pool.acquire("tiny");
    await model.backend.close();
    expect(model.backend.isAlive).toBe(false);
    const again = await client.chat.completions.create({ model: "tiny", messages: ask, max_tokens: 3 });
    expect(again.choices[0]?.finish_reason).toBeTruthy();
    expect((await pool.acquire("tiny")).backend.isAlive).toBe(true);
  });

  it("evicts the least recently used idle model to stay within its budget, and says what is loading", async () => {
    const small = createModelPool({
      budgetBytes: 1, // room for one model at a time
      slots: 2,
      threads: 1,
      resolve: async () => ({ modelDir, templateId: "phi3" }),
    });
    try {
      const loading = small.acquire("a");
      expect(small.stateOf("a")).toBe("loading");
      await loading;
      expect(small.stateOf("a")).toBe("ready");
      await small.acquire("b");
      expect(small.list().map((m) => m.id)).toEqual(["b"]);
      expect(small.stateOf("a")).toBe(null);
    } finally {
      await small.close();
    }
  });
});
