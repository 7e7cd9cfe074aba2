/**
 * Trains a small byte-level BPE tokenizer (GPT-2/Llama-3/Qwen style) and returns it as an HF
 * `tokenizer.json` object. Tests and the benchmark use it because no model can be downloaded
 * here; it exercises the same tokenizer code path a real student's tokenizer.json does.
 */

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const map: string[] = new Array(256);
  bs.forEach((b, i) => {
    map[b] = String.fromCodePoint(cs[i] as number);
  });
  return map;
}

export const SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<think>",
  "</think>",
  "<|user|>",
  "<|assistant|>",
  "<|end|>",
];

/** Llama-3's and Qwen2's split regexes, as their tokenizer.json files carry them. */
export const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * `style` picks the pre-tokenizer: GPT-2's ByteLevel regex, or a Split regex followed by
 * ByteLevel without its regex as Llama-3 (no normalizer) and Qwen2 (NFC) ship it.
 */
export function createTinyTokenizer(
  corpus: string,
  merges = 500,
  style: "gpt2" | "llama3" | "qwen2" = "gpt2",
): Record<string, unknown> {
  const byteChar = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const m of corpus.matchAll(GPT2_SPLIT)) {
    const w = [...encoder.encode(m[0])].map((b) => byteChar[b]).join("\u0001");
    wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  let words = [...wordCounts].map(([w, c]) => ({ symbols: w.split("\u0001"), count: c }));
  const vocab: Record<string, number> = {};
  for (const ch of byteChar) vocab[ch] = Object.keys(vocab).length;
  const mergeList: [string, string][] = [];
  for (let k = 0; k < merges; k++) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = `${symbols[i]}\u0001${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best = "";
    let bestCount = 1;
    for (const [key, c] of pairs) if (c > bestCount) [best, bestCount] = [key, c];
    if (!best) break;
    const [a, b] = best.split("\u0001") as [string, string];
    mergeList.push([a, b]);
    vocab[a + b] = Object.keys(vocab).length;
    words = words.map(({ symbols, count }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === a && symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(symbols[i] as string);
      }
      return { symbols: out, count };
    });
  }
  const added = SPECIAL_TOKENS.map((content, i) => ({
    id: Object.keys(vocab).length + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  for (const t of added) vocab[t.content] = t.id;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: style === "qwen2" ? { type: "NFC" } : null,
    pre_tokenizer:
      style === "gpt2"
        ? { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }
        : {
            type: "Sequence",
            pretokenizers: [
              {
                type: "Split",
                pattern: { Regex: style === "llama3" ? LLAMA3_SPLIT : QWEN2_SPLIT },
                behavior: "Isolated",
                invert: false,
              },
              { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
            ],
          },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: mergeList,
    },
  };
}

/**
 * A small SentencePiece-style BPE tokenizer.json like Llama-2's and Phi-3's: "▁" for spaces,
 * byte fallback, `<|user|>`-style added tokens with rstrip. `style` picks the Llama-2 form
 * (Prepend + Replace normalizer) or the newer Metaspace pre-tokenizer form.
 */
export function createTinySentencePieceTokenizer(
  corpus: string,
  merges = 300,
  style: "normalizer" | "metaspace" = "normalizer",
): Record<string, unknown> {
  const SP = "\u2581";
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++)
    vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = Object.keys(vocab).length;
  const words = new Map<string, number>();
  for (const w of corpus.split(/(?= )/)) {
    const norm = SP + w.trimStart().replaceAll(" ", SP);
    words.set(norm, (words.get(norm) ?? 0) + 1);
  }
  for (const w of words.keys()) for (const ch of w) if (!(ch in vocab)) vocab[ch] = Object.keys(vocab).length;
  let list = [...words].map(([w, count]) => ({ symbols: Array.from(w), count }));
  const mergeList: [string, string][] = [];
  for (let k = 0; k < merges; k++) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of list) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = `${symbols[i]}\u0001${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best = "";
    let bestCount = 1;
    for (const [key, c] of pairs) if (c > bestCount) [best, bestCount] = [key, c];
    if (!best) break;
    const [a, b] = best.split("\u0001") as [string, string];
    mergeList.push([a, b]);
    vocab[a + b] = Object.keys(vocab).length;
    list = list.map(({ symbols, count }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === a && symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(symbols[i] as string);
      }
      return { symbols: out, count };
    });
  }
  const specials = ["<unk>", "<s>", "</s>"].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const added = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>", "<think>", "</think>"].map(
    (content, i) => ({
      id: Object.keys(vocab).length + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: content.startsWith("<|") && content !== "<|endoftext|>",
      normalized: false,
      special: true,
    }),
  );
  for (const t of added) vocab[t.content] = t.id;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [...specials, ...added],
    normalizer:
      style === "normalizer"
        ? {
            type: "Sequence",
            normalizers: [
              { type: "Prepend", prepend: SP },
              { type: "Replace", pattern: { String: " " }, content: SP },
            ],
          }
        : null,
    pre_tokenizer:
      style === "metaspace"
        ? { type: "Metaspace", replacement: SP, prepend_scheme: "first", split: false }
        : null,
    post_processor: null,
    decoder: null,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: mergeList,
    },
  };
}
