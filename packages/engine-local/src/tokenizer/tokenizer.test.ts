import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "./bpe-trainer.ts";
import {
  addSpecialTokens,
  buildTokenizerConfig,
  createTokenizer,
  loadTokenizer,
  saveTokenizer,
} from "./engine-tokenizer.ts";

const corpus = [
  "<|user|>\nWhat is 12 + 345?<|end|>\n<|assistant|>\nThe answer is 357.<|end|>",
  "The quick brown fox jumps over the lazy dog. Don't panic! ünïcødé ✓ 2024",
  "the the the theory then there",
];

describe("byte-level BPE tokenizer", () => {
  const json = trainBpeTokenizer(corpus, {
    vocabSize: 300,
    specialTokens: ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>"],
  });
  const config = buildTokenizerConfig({
    eosToken: "<|endoftext|>",
    chatTemplate: "",
    specialTokens: ["<|endoftext|>"],
    modelMaxLength: 256,
  });

  it("round-trips any text through @huggingface/tokenizers", () => {
    const tok = createTokenizer(json, config);
    for (const text of [...corpus, "unseen wörds 🙂 and 9876543210", "  spaces\n\nnewlines\t"]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it("splits digits one by one and keeps special tokens whole", () => {
    const tok = createTokenizer(json, config);
    const ids = tok.encode("<|user|>12345");
    expect(ids[0]).toBe(1);
    expect(ids.length).toBe(6);
  });

  it("learns merges for frequent words", () => {
    const tok = createTokenizer(json, config);
    expect(tok.encode("the").length).toBe(1);
    expect(tok.vocabSize).toBeGreaterThan(260);
  });

  it("adds special tokens, saves and loads back", () => {
    const tok = createTokenizer(json, config);
    const { tokenizer, added } = addSpecialTokens(tok, ["<think>", "</think>", "<|end|>"]);
    expect(added).toEqual(["<think>", "</think>"]);
    expect(tokenizer.vocabSize).toBe(tok.vocabSize + 2);
    expect(tokenizer.encode("<think>hi</think>")[0]).toBe(tok.vocabSize);
    const dir = mkdtempSync(join(tmpdir(), "tok-"));
    saveTokenizer(tokenizer, dir);
    const back = loadTokenizer(dir);
    expect(back.encode("<think>x</think> 42")).toEqual(tokenizer.encode("<think>x</think> 42"));
    expect(back.stopTokenIds).toContain(0);
  });

  it("decodes ids past the tokenizer (padded model vocab) as nothing", () => {
    const tok = createTokenizer(json, config);
    const ids = tok.encode("the answer");
    expect(tok.decode([...ids, tok.vocabSize + 3])).toBe("the answer");
  });

  it("reports a tokenizer.json that does not parse", () => {
    const dir = mkdtempSync(join(tmpdir(), "tok-"));
    writeFileSync(join(dir, "tokenizer.json"), "{not json");
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer.json is not valid JSON/);
  });
});
