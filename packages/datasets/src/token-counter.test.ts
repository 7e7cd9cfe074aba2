import { describe, expect, it } from "vitest";
import {
  createTinySentencePieceTokenizer,
  createTinyTokenizer,
} from "./test-fixtures/create-tiny-tokenizer.ts";
import { createReferenceTokenCounter, createTokenCounter } from "./token-counter.ts";

const corpus =
  "The quick brown fox jumps over the lazy dog. It's 2024, and we'll count 12345 tokens!\n\nLet me think: 3 + 4 = 7.";
const tokenizer = createTinyTokenizer(corpus.repeat(5), 200);

const samples = [
  "",
  "hello world",
  "  two  spaces   and\ttabs\n\nnewlines \n end ",
  "It's we'll they're I've I'm he'd don't 'S",
  "<think>\nLet me think.\n</think>\n\nThe answer is 7.<|end|>",
  " <think> spaced </think> ",
  "numbers 3.14159 and 1,000,000 and x2y3",
  "ünïcödé — naïve café 北京 🙂 emoji 🙂🙂 and \u00a0nbsp",
  "punct!!! ... ??? ;-) (a) [b] {c} \\boxed{42}",
  "trailing spaces   ",
  "\n\n\n",
  "mixed\r\nCRLF\r\nlines",
];

describe("token counting", () => {
  const fast = createTokenCounter(tokenizer);
  const reference = createReferenceTokenCounter(tokenizer);
  it("takes the fast path for byte-level BPE", () => {
    expect(fast.path).toBe("fast");
  });
  it.each(samples.map((s) => [s]))("matches @huggingface/tokenizers on %j", (text) => {
    expect(fast.count(text)).toBe(reference.count(text));
  });
  it("matches on random mixtures of the samples", () => {
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let k = 0; k < 200; k++) {
      let text = "";
      for (let j = 0; j < 5; j++) {
        const s = samples[Math.floor(rnd() * samples.length)] as string;
        const a = Math.floor(rnd() * s.length);
        text += s.slice(a, a + Math.floor(rnd() * 20));
      }
      expect(fast.count(text), JSON.stringify(text)).toBe(reference.count(text));
    }
  });
  it("falls back to the library for other tokenizers", () => {
    const other = { ...tokenizer, normalizer: { type: "NFC" } };
    const counter = createTokenCounter(other);
    expect(counter.path).toBe("generic");
    expect(counter.count("hello world")).toBe(reference.count("hello world"));
  });
  it("names what is wrong with a bad tokenizer.json", () => {
    expect(() => createTokenCounter({ nope: 1 })).toThrow(/tokenizer.json: model/);
  });
});

describe("SentencePiece-style token counting (Llama-2, Phi-3)", () => {
  const spCorpus = `${corpus} The  answer   is here.\nNew line, café and naïve.`.repeat(4);
  const extra = [
    "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n<think>\nfour\n</think>\n\n4<|end|>\n<|endoftext|>",
    " leading space",
    "   three leading",
    "tabs\tand\nnewlines\n\n end",
    "<s>bos then text</s>",
  ];
  it.each(["normalizer", "metaspace"] as const)("matches @huggingface/tokenizers (%s form)", (style) => {
    const json = createTinySentencePieceTokenizer(spCorpus, 150, style);
    const fast = createTokenCounter(json);
    const reference = createReferenceTokenCounter(json);
    expect(fast.path).toBe("fast");
    for (const text of [...samples, ...extra])
      expect(fast.count(text), JSON.stringify(text)).toBe(reference.count(text));
    let seed = 11;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pool = [...samples, ...extra];
    for (let k = 0; k < 200; k++) {
      let text = "";
      for (let j = 0; j < 4; j++) {
        const s = pool[Math.floor(rnd() * pool.length)] as string;
        const a = Math.floor(rnd() * s.length);
        text += s.slice(a, a + Math.floor(rnd() * 25));
      }
      expect(fast.count(text), JSON.stringify(text)).toBe(reference.count(text));
    }
  });
  it("refuses the fast path when a token carries ▁ after a character", () => {
    const json = createTinySentencePieceTokenizer(spCorpus, 50) as {
      model: { vocab: Record<string, number> };
    };
    json.model.vocab["a\u2581b"] = 99999;
    expect(createTokenCounter(json).path).toBe("generic");
  });
});

describe("Split-regex byte-level token counting (Llama-3, Qwen2)", () => {
  it.each(["llama3", "qwen2"] as const)("matches @huggingface/tokenizers (%s)", (style) => {
    const json = createTinyTokenizer(`${corpus} 1234567 naïve CAFÉ it's IT'S`.repeat(4), 150, style);
    const fast = createTokenCounter(json);
    const reference = createReferenceTokenCounter(json);
    expect(fast.path).toBe("fast");
    const texts = [...samples, "IT'S WE'LL 12345678 x\r\n\r\ny", "e\u0301 composed? cafe\u0301"];
    for (const text of texts) expect(fast.count(text), JSON.stringify(text)).toBe(reference.count(text));
  });
});
