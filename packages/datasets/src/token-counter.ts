import { ByteLevelPreTokenizer, SequencePreTokenizer, Tokenizer } from "@huggingface/tokenizers";
import { z } from "zod";

export interface TokenCounter {
  /** tokens in `text`, without special tokens added around it */
  count(text: string): number;
  /** "fast": the library's pipeline with counts cached per piece; "generic": encode() itself */
  readonly path: "fast" | "generic";
}

const ZTokenizerJson = z
  .object({
    model: z.object({ type: z.string() }).passthrough(),
    added_tokens: z.array(z.object({ content: z.string() }).passthrough()).default([]),
  })
  .passthrough();

type Json = Record<string, unknown>;

interface PreTokenizerStep {
  pre_tokenize(text: string | string[], options?: { section_index?: number }): string[];
  pre_tokenize_text(text: string, options?: { section_index?: number }): string[];
}

/** The library's added-token trie (DictionarySplitter): one node per character, `end` = the token. */
type TrieNode = { [ch: string]: TrieNode } & { end?: string };

/** The parts of @huggingface/tokenizers' Tokenizer that `encode_text` uses (0.2.x). */
interface TokenizerInternals {
  normalizer: ((text: string) => string) | null;
  model: ((pieces: string[]) => string[]) & { fuse_unk?: boolean; unk_token?: string };
  splitter_unnormalized: { split(text: string): string[]; trie: TrieNode };
  splitter_normalized: { split(text: string): string[]; trie: TrieNode };
  added_tokens_map: Map<string, { lstrip: boolean; rstrip: boolean }>;
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
}

/**
 * How a subsection becomes cache keys and then the model's input: `split` gives the pieces
 * (the keys), `finish` turns one piece into what the model encodes. finish(split(x)) is the
 * library's own pre-tokenizer output; finish never depends on the section index.
 */
interface PieceRoute {
  split(text: string, sectionIndex: number): string[];
  finish(piece: string): string[];
}

/**
 * A piece's entry in the cache, packed in one number: count * 4, + 2 when its first token is the
 * unknown token, + 1 when its last one is (for fuse_unk).
 */
type PackedCount = number;

const SPACE = "\u2581";
// at most 256 Ki pieces of at most 64 characters: the cache stays under ~40 MB on any text
const MAX_CACHED_PIECE = 64;
const MAX_CACHE_SIZE = 1 << 18;

/** No vocabulary token carries "▁" after another character: BPE never merges across "x|▁". */
function hasNoInnerSpace(model: Json): boolean {
  const vocab = model.vocab as Record<string, number> | undefined;
  if (model.type !== "BPE" || !vocab) return false;
  for (const t of Object.keys(vocab))
    for (let p = 1; p < t.length; p++) if (t[p] === SPACE && t[p - 1] !== SPACE) return false;
  return true;
}

/** cut before every "▁" that follows another character */
function splitBeforeSpaces(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i < text.length; i++)
    if (text[i] === SPACE && text[i - 1] !== SPACE) {
      out.push(text.slice(start, i));
      start = i;
    }
  out.push(text.slice(start));
  return out;
}

/** ByteLevel's split regex in @huggingface/tokenizers (GPT-2's) */
const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const isSpace = (code: number) =>
  code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)));

/**
 * Cuts text where no match of GPT-2's regex can straddle: before the last whitespace character
 * of every whitespace run that a non-space follows. Every alternative but the two whitespace
 * ones ends on a non-space and takes at most one leading space; `\s+(?!\S)` stops one short of
 * a run's end, and `\s+` is tried only where that fails (a run of one, which the cut starts).
 * So the regex over each chunk gives the pieces it gives over the whole text (a test holds it).
 */
function splitGpt2Chunks(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i < text.length; i++) {
    if (!isSpace(text.charCodeAt(i)) || isSpace(text.charCodeAt(i + 1)) || i + 1 >= text.length) continue;
    if (i > start) out.push(text.slice(start, i));
    start = i;
  }
  out.push(text.slice(start));
  return out;
}

/**
 * Where the pieces are cut, from the tokenizer.json's pre-tokenizer, with the library's own
 * pre-tokenizer classes. A ByteLevel last step (GPT-2, SmolLM, Llama-3, Qwen) runs only for a
 * piece not yet cached: its regex and byte-to-character mapping cost more than the BPE it feeds.
 */
function pieceRoute(json: Json, tokenizer: Tokenizer): PieceRoute {
  const pre = (json.pre_tokenizer ?? null) as Json | null;
  const identity = (piece: string) => [piece];
  if (pre === null) {
    // SentencePiece-style BPE (Llama-2, Phi-3): the model sees the whole normalized section
    return hasNoInnerSpace(json.model as Json)
      ? { split: splitBeforeSpaces, finish: identity }
      : { split: (text) => [text], finish: identity };
  }
  const steps = pre.type === "Sequence" ? ((pre.pretokenizers as Json[] | undefined) ?? []) : [pre];
  const last = steps[steps.length - 1];
  if (last?.type === "ByteLevel" && last.add_prefix_space !== true) {
    const step = new ByteLevelPreTokenizer(last as never) as unknown as PreTokenizerStep & {
      pattern: RegExp;
    };
    if (last.use_regex !== false && steps.length === 1 && step.pattern.source === GPT2_PATTERN) {
      // GPT-2's regex alone (GPT-2, SmolLM): whole chunks are cached, the regex runs on a miss
      return { split: (text) => splitGpt2Chunks(text), finish: (chunk) => step.pre_tokenize_text(chunk) };
    }
    if (last.use_regex === false && steps.length > 1) {
      // Split regex then ByteLevel (Llama-3, Qwen): the byte mapping runs on a miss
      const before = sequenceOf(steps.slice(0, -1));
      return {
        split: (text, i) => before.pre_tokenize(text, { section_index: i }),
        finish: (piece) => step.pre_tokenize_text(piece),
      };
    }
  }
  const all = (tokenizer as unknown as { pre_tokenizer: PreTokenizerStep }).pre_tokenizer;
  if (pre.type === "Metaspace" && hasNoInnerSpace(json.model as Json)) {
    // SentencePiece-style BPE in the Metaspace form (Mistral, newer Llama-2 exports): its output
    // is cut before each "▁" as above, whether or not Metaspace splits itself
    return {
      split: (text, i) => all.pre_tokenize_text(text, { section_index: i }).flatMap(splitBeforeSpaces),
      finish: identity,
    };
  }
  return { split: (text, i) => all.pre_tokenize_text(text, { section_index: i }), finish: identity };
}

/** the steps as one pre-tokenizer; pre_tokenize_text of a one-step list skips the array wrapper */
function sequenceOf(steps: Json[]): PreTokenizerStep {
  const seq = new SequencePreTokenizer({ type: "Sequence", pretokenizers: steps } as never) as unknown as {
    tokenizers: PreTokenizerStep[];
  } & PreTokenizerStep;
  const only = seq.tokenizers.length === 1 ? seq.tokenizers[0] : undefined;
  return only
    ? {
        pre_tokenize: (t, o) => only.pre_tokenize_text(t as string, o),
        pre_tokenize_text: (t, o) => only.pre_tokenize_text(t, o),
      }
    : seq;
}

/**
 * Counts tokens with the student's tokenizer.json through @huggingface/tokenizers, step for step
 * as `Tokenizer.encode_text` runs it (added tokens split out and stripped, normalizer,
 * pre-tokenizer with the section index, model), except that the model's output for each piece
 * is kept as a count. The models (BPE, WordPiece, Unigram) encode each pre-tokenized piece on
 * its own, so the sum over pieces is the library's count; `fuse_unk` (a run of unknown tokens
 * becomes one) is applied across pieces from cached first/last flags. Where pieceRoute caches
 * coarser pieces than the pre-tokenizer's (GPT-2 chunks, SentencePiece words), the cut is one
 * that no regex match or BPE merge can cross, so counts stay exact (tests compare with encode()).
 */
class LibraryTokenCounter implements TokenCounter {
  readonly path = "fast" as const;
  private readonly t: TokenizerInternals;
  private cache = new Map<string, PackedCount>();
  private readonly splitUnnormalized: (text: string) => string[];
  private readonly splitNormalized: (text: string) => string[];

  constructor(
    tokenizer: Tokenizer,
    private readonly route: PieceRoute,
  ) {
    this.t = tokenizer as unknown as TokenizerInternals;
    this.splitUnnormalized = trieSplitter(this.t.splitter_unnormalized.trie);
    this.splitNormalized = trieSplitter(this.t.splitter_normalized.trie);
  }

  count(text: string): number {
    const t = this.t;
    const sections = this.splitUnnormalized(text);
    stripAroundAdded(sections, t.added_tokens_map);
    let tokens = 0;
    for (let i = 0; i < sections.length; i++) {
      let section = sections[i] as string;
      if (section.length === 0) continue;
      if (t.added_tokens_map.has(section)) {
        tokens++;
        continue;
      }
      if (t.remove_space === true) section = section.trim().split(/\s+/).join(" ");
      if (t.normalizer !== null) section = t.normalizer(section);
      if (section.length === 0) continue;
      const subsections = this.splitNormalized(section);
      stripAroundAdded(subsections, t.added_tokens_map);
      for (const sub of subsections) {
        if (sub.length === 0) continue;
        if (t.added_tokens_map.has(sub)) tokens++;
        else tokens += this.countPieces(this.route.split(sub, i));
      }
    }
    return tokens;
  }

  /** tokens of one model call: a subsection's pieces (unknown tokens fuse only within one call) */
  private countPieces(pieces: string[]): number {
    let tokens = 0;
    let prevUnkEnd = false;
    const fuse = this.t.model.fuse_unk === true;
    for (const piece of pieces) {
      const c = this.countPiece(piece);
      if (c < 4) continue;
      tokens += c >> 2;
      if (fuse && prevUnkEnd && (c & 2) !== 0) tokens--;
      prevUnkEnd = (c & 1) !== 0;
    }
    return tokens;
  }

  private countPiece(piece: string): PackedCount {
    const hit = this.cache.get(piece);
    if (hit !== undefined) return hit;
    const model = this.t.model;
    let out = model(this.route.finish(piece));
    const unk = model.unk_token;
    if (model.fuse_unk === true && unk !== undefined) out = fuseUnknown(out, unk);
    const c =
      out.length * 4 +
      (unk !== undefined && out[0] === unk ? 2 : 0) +
      (unk !== undefined && out[out.length - 1] === unk ? 1 : 0);
    if (piece.length <= MAX_CACHED_PIECE) {
      if (this.cache.size >= MAX_CACHE_SIZE) this.cache = new Map();
      this.cache.set(piece, c);
    }
    return c;
  }
}

/**
 * DictionarySplitter.split over the library's own trie (longest match at each position, left to
 * right), skipping positions whose character starts no added token instead of walking the trie
 * from every character.
 */
function trieSplitter(trie: TrieNode): (text: string) => string[] {
  const starts = new Uint8Array(65536);
  for (const ch of Object.keys(trie)) if (ch !== "end") starts[ch.charCodeAt(0)] = 1;
  return (text) => {
    const out: string[] = [];
    let start = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (starts[text.charCodeAt(i)] !== 1) {
        i++;
        continue;
      }
      let node: TrieNode | undefined = trie;
      let match: string | undefined;
      for (let j = i; j < n; j++) {
        node = node[text[j] as string];
        if (!node) break;
        if (node.end) match = node.end;
      }
      if (match) {
        if (i > start) out.push(text.slice(start, i));
        out.push(match);
        i += match.length;
        start = i;
      } else i++;
    }
    if (start < n) out.push(text.slice(start));
    return out;
  };
}

/** The model already fuses within its call; this only keeps the flags honest. */
function fuseUnknown(tokens: string[], unk: string): string[] {
  return tokens.filter((tok, i) => !(tok === unk && tokens[i - 1] === unk));
}

/** lstrip / rstrip of added tokens trim their neighbours, as encode_text does */
function stripAroundAdded(parts: string[], added: TokenizerInternals["added_tokens_map"]): void {
  for (let i = 0; i < parts.length; i++) {
    const a = added.get(parts[i] as string);
    if (!a) continue;
    if (a.lstrip && i > 0) parts[i - 1] = (parts[i - 1] as string).trimEnd();
    if (a.rstrip && i < parts.length - 1) parts[i + 1] = (parts[i + 1] as string).trimStart();
  }
}

/** the internals the mirror reads are there (else the library's encode() counts) */
function canMirror(tokenizer: Tokenizer): boolean {
  const t = tokenizer as unknown as Partial<TokenizerInternals>;
  return (
    typeof t.splitter_unnormalized?.trie === "object" &&
    typeof t.splitter_normalized?.trie === "object" &&
    t.added_tokens_map instanceof Map &&
    typeof t.model === "function" &&
    t.do_lowercase_and_remove_accent !== true
  );
}

/**
 * Loads a student's tokenizer.json (and optionally tokenizer_config.json) into
 * @huggingface/tokenizers and counts with it: one tokenizer, the real one, with counts cached
 * per piece (see LibraryTokenCounter) so a large dataset's statistics stay fast.
 */
export function createTokenCounter(tokenizerJson: unknown, tokenizerConfig: unknown = {}): TokenCounter {
  const parsed = ZTokenizerJson.safeParse(tokenizerJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`tokenizer.json: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const json = parsed.data as Json;
  const tokenizer = new Tokenizer(json as never, (tokenizerConfig ?? {}) as never);
  if (!canMirror(tokenizer)) return encodeCounter(tokenizer);
  return new LibraryTokenCounter(tokenizer, pieceRoute(json, tokenizer));
}

function encodeCounter(tokenizer: Tokenizer): TokenCounter {
  return {
    path: "generic",
    count: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
  };
}

/** The library's encode() itself, for tests and spot checks of the cached counter. */
export function createReferenceTokenCounter(
  tokenizerJson: unknown,
  tokenizerConfig: unknown = {},
): TokenCounter {
  return encodeCounter(new Tokenizer(tokenizerJson as never, (tokenizerConfig ?? {}) as never));
}
