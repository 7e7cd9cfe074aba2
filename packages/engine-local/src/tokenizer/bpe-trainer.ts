import { buildByteToUnicode, SPLIT_PATTERN } from "./byte-level.ts";

export interface BpeTrainOptions {
  vocabSize: number;
  /** added as special tokens with the first ids, in order (e.g. `<|endoftext|>`, `<|user|>`) */
  specialTokens: string[];
}

/**
 * Trains a byte-level BPE and returns an HF `tokenizer.json` object. Specials take ids
 * 0..s−1, the 256 byte symbols follow, then one token per merge. Pair counts are kept
 * incrementally per word type, so the cost is per merge × words touched, not the corpus size.
 * Ties break on the lexicographically smaller pair so training is deterministic.
 */
export function trainBpeTokenizer(corpus: Iterable<string>, opts: BpeTrainOptions): Record<string, unknown> {
  const byteToUnicode = buildByteToUnicode();
  const encoder = new TextEncoder();
  const splitRe = new RegExp(SPLIT_PATTERN, "gu");
  const specialRe = opts.specialTokens.length
    ? new RegExp(opts.specialTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g")
    : null;
  const wordCounts = new Map<string, number>();
  for (const text of corpus) {
    for (const piece of specialRe ? text.split(specialRe) : [text]) {
      for (const m of piece.matchAll(splitRe)) {
        const w = [...encoder.encode(m[0])].map((b) => byteToUnicode[b]).join("");
        wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      }
    }
  }
  const words = [...wordCounts.entries()].map(([w, count]) => ({ symbols: [...w], count }));
  const vocab = new Map<string, number>();
  for (const t of opts.specialTokens) vocab.set(t, vocab.size);
  for (let b = 0; b < 256; b++) vocab.set(byteToUnicode[b] as string, vocab.size);
  const merges: [string, string][] = [];
  const SEP = "\u0000";
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const { symbols, count } = words[wi]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i] + SEP + symbols[i + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * count);
      if (sign > 0) {
        let s = pairWords.get(key);
        if (!s) {
          s = new Set();
          pairWords.set(key, s);
        }
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);
  while (vocab.size < opts.vocabSize) {
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && count > 0 && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null || bestCount < 2) break;
    const [left, right] = best.split(SEP) as [string, string];
    const merged = left + right;
    merges.push([left, right]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const wi of pairWords.get(best) ?? []) {
      addPairs(wi, -1);
      const w = words[wi]!;
      const out: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === left && w.symbols[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(w.symbols[i] as string);
      }
      w.symbols = out;
      addPairs(wi, 1);
    }
    pairCounts.delete(best);
    pairWords.delete(best);
  }
  const modelVocab: Record<string, number> = {};
  for (const [tok, id] of vocab) if (id >= opts.specialTokens.length) modelVocab[tok] = id;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: opts.specialTokens.map((content, id) => addedToken(id, content)),
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: SPLIT_PATTERN }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: modelVocab,
      merges,
    },
  };
}

export function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
