import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { idToTokenOf } from "@distillery/core";
import { createTinyModel, type EngineTokenizer, loadTokenizer } from "@distillery/engine-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelPool, type ModelPool } from "../pool/model-pool.ts";
import { UnknownModelError } from "../pool/servable-models.ts";
import { serveOverHttp } from "../testing/serve-over-http.ts";
import { handleCompletions, handleTokenize } from "./handle-v1.ts";

/**
 * vLLM's `prompt_logprobs` and token-id prompts on /v1/completions, and its /tokenize, over real
 * HTTP with a real tiny model in a real model process.
 */
const dir = mkdtempSync(join(tmpdir(), "inference-prompt-lp-"));
const modelDir = join(dir, "tiny");
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
let tokenizer: EngineTokenizer;

beforeAll(async () => {
  createTinyModel(modelDir, {
    corpus: Array.from({ length: 60 }, (_, i) => `What is ${i} + ${i + 3}? The answer is ${2 * i + 3}.`),
    vocabSize: 300,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxPositions: 256,
    template: "phi3",
    seed: 9,
  });
  tokenizer = loadTokenizer(modelDir);
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 2,
    threads: 1,
    resolve: async (id) => {
      if (id !== "tiny") throw new UnknownModelError(id);
      return { modelDir, templateId: "phi3" };
    },
  });
  server = await serveOverHttp({
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /tokenize": (req) => handleTokenize({ pool }, req),
  });
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

type Entry = Record<string, { logprob: number; rank: number; decoded_token: string }>;

describe("prompt_logprobs (vLLM's extension)", () => {
  it("scores every prompt token after the first: top-k plus the token itself, ranked, decoded", async () => {
    const ids = tokenizer.encode("What is 4 + 7? The answer is 11.", false);
    const k = 3;
    const { status, body } = await post("/v1/completions", {
      model: "tiny",
      prompt: ids,
      max_tokens: 1,
      temperature: 0,
      prompt_logprobs: k,
    });
    expect(status).toBe(200);
    const choice = body.choices[0];
    const lp = choice.prompt_logprobs as (Entry | null)[];
    expect(lp).toHaveLength(ids.length);
    expect(lp[0]).toBeNull();
    for (let t = 1; t < ids.length; t++) {
      const entry = lp[t] as Entry;
      const own = entry[String(ids[t])];
      expect(own, `position ${t} holds its prompt token`).toBeDefined();
      const others = Object.entries(entry).filter(([id]) => Number(id) !== ids[t]);
      const ownInTop = (own?.rank ?? 0) <= k;
      expect(Object.keys(entry)).toHaveLength(ownInTop ? k : k + 1);
      // ranks 1..k over the top entries, in logprob order; log-probabilities are ≤ 0
      const top = Object.values(entry)
        .filter((e) => e.rank <= k)
        .sort((a, b) => a.rank - b.rank);
      expect(top.map((e) => e.rank)).toEqual([1, 2, 3]);
      for (let i = 1; i < top.length; i++)
        expect((top[i] as { logprob: number }).logprob).toBeLessThanOrEqual(
          (top[i - 1] as { logprob: number }).logprob,
        );
      if (!ownInTop)
        expect(own?.logprob).toBeLessThanOrEqual(Math.min(...others.map(([, e]) => e.logprob)) + 1e-12);
      for (const [id, e] of Object.entries(entry)) {
        expect(e.logprob).toBeLessThanOrEqual(0);
        expect(e.decoded_token).toBe(tokenizer.decode([Number(id)], false));
      }
    }
    // the probabilities of one position's full distribution sum to one: the top-3 hold at most that
    const mass = Object.values(lp[1] as Entry)
      .filter((e) => e.rank <= k)
      .reduce((s, e) => s + Math.exp(e.logprob), 0);
    expect(mass).toBeLessThanOrEqual(1 + 1e-6);
    expect(choice.text).toEqual(expect.any(String));
    expect(body.usage.prompt_tokens).toBe(ids.length);
  });

  it("batches several id prompts (one choice each, by index) and gives the same scores as one at a time", async () => {
    const a = tokenizer.encode("What is 1 + 4? The answer is 5.", false);
    const b = tokenizer.encode("What is 9 + 12?", false);
    const both = await post("/v1/completions", {
      model: "tiny",
      prompt: [a, b],
      max_tokens: 1,
      prompt_logprobs: 2,
    });
    const alone = await post("/v1/completions", {
      model: "tiny",
      prompt: b,
      max_tokens: 1,
      prompt_logprobs: 2,
    });
    expect(both.status).toBe(200);
    expect(both.body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1]);
    expect(both.body.choices[0].prompt_logprobs).toHaveLength(a.length);
    expect(both.body.choices[1].prompt_logprobs).toEqual(alone.body.choices[0].prompt_logprobs);
  });

  it("answers without prompt_logprobs when none is asked, and refuses what it cannot do, naming the field", async () => {
    const ids = tokenizer.encode("What is 2 + 2?", false);
    const plain = await post("/v1/completions", { model: "tiny", prompt: ids, max_tokens: 2 });
    expect(plain.status).toBe(200);
    expect(plain.body.choices[0]).not.toHaveProperty("prompt_logprobs");
    const stream = await post("/v1/completions", {
      model: "tiny",
      prompt: ids,
      stream: true,
      prompt_logprobs: 2,
    });
    expect(stream.status).toBe(400);
    expect(stream.body.error.param).toBe("prompt_logprobs");
    const past = await post("/v1/completions", { model: "tiny", prompt: [1, 2, 300000], prompt_logprobs: 1 });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toMatch(/prompt\[2\] is token id 300000, past the model's vocabulary/);
    const negative = await post("/v1/completions", { model: "tiny", prompt: ids, prompt_logprobs: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.error.param).toBe("prompt_logprobs");
  });
});

describe("/tokenize (vLLM's, at the server root)", () => {
  it("gives the model's ids and, on request, each id's vocabulary string", async () => {
    const text = "<|user|>What is 3 + 5?<|end|>";
    const { status, body } = await post("/tokenize", {
      model: "tiny",
      prompt: text,
      add_special_tokens: false,
      return_token_strs: true,
    });
    expect(status).toBe(200);
    const ids = tokenizer.encode(text, false);
    expect(body.tokens).toEqual(ids);
    expect(body.count).toBe(ids.length);
    const vocab = idToTokenOf(tokenizer.json);
    expect(body.token_strs).toEqual(ids.map((id) => vocab[id]));
    expect(body.max_model_len).toBeGreaterThan(0);
    const unknown = await post("/tokenize", { model: "nope", prompt: "x" });
    expect(unknown.status).toBe(404);
  });
});
