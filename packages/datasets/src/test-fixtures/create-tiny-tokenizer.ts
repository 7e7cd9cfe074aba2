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

export function createTinyTokenizer(corpus: string, merges = 500): Record<string, unknown> {
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
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
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
