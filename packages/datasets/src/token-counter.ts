import { Tokenizer } from "@huggingface/tokenizers";
import { z } from "zod";
import { ByteLevelBpeCounter } from "./byte-level-bpe-counter.ts";
import {
  isSentencePieceSafe,
  SentencePieceBpeCounter,
  type SentencePieceOptions,
} from "./sentencepiece-bpe-counter.ts";
import { SplitRegexBpeCounter } from "./split-regex-bpe-counter.ts";

export interface TokenCounter {
  /** tokens in `text`, without special tokens added around it */
  count(text: string): number;
  /** "fast" when the byte-level BPE counter applies, "generic" otherwise */
  readonly path: "fast" | "generic";
}

const ZTokenizerJson = z
  .object({
    model: z.object({ type: z.string() }).passthrough(),
    added_tokens: z.array(z.object({ content: z.string() }).passthrough()).default([]),
  })
  .passthrough();

type Json = Record<string, unknown>;

/** The shape the fast path reproduces exactly: GPT-2 style byte-level BPE, no normalizer. */
function fastPathMerges(t: Json): [string, string][] | null {
  const model = t.model as Json;
  const pre = t.pre_tokenizer as Json | null | undefined;
  if (model.type !== "BPE" || (model.dropout ?? null) !== null) return null;
  if ((t.normalizer ?? null) !== null) return null;
  if (pre?.type !== "ByteLevel" || pre.use_regex === false || pre.add_prefix_space === true) return null;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || model.ignore_merges) return null;
  // the counter splits on added tokens but does not strip around them
  const added = (t.added_tokens as Json[]) ?? [];
  if (added.some((a) => a.lstrip === true || a.rstrip === true || a.normalized === true)) return null;
  const merges = model.merges;
  if (!Array.isArray(merges)) return null;
  return merges.map((m) =>
    typeof m === "string" ? (m.split(" ", 2) as [string, string]) : (m as [string, string]),
  );
}

const SP = "\u2581";

/** SentencePiece-style BPE (Llama-2, Phi-3): the options for the piece-cutting counter, or null. */
function sentencePieceOptions(t: Json): SentencePieceOptions | null {
  const model = t.model as Json;
  if (model.type !== "BPE" || (model.dropout ?? null) !== null || model.byte_fallback !== true) return null;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || model.ignore_merges) return null;
  const vocab = model.vocab as Record<string, number> | undefined;
  const merges = model.merges;
  if (!vocab || !Array.isArray(merges)) return null;
  for (let b = 0; b < 256; b++)
    if (!(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>` in vocab)) return null;
  const norm = t.normalizer as Json | null | undefined;
  const pre = t.pre_tokenizer as Json | null | undefined;
  let prepend: SentencePieceOptions["prepend"];
  const steps = norm?.type === "Sequence" ? (norm.normalizers as Json[]) : [];
  const isPrepend = (n: Json | undefined) => n?.type === "Prepend" && n.prepend === SP;
  const isReplace = (n: Json | undefined) =>
    n?.type === "Replace" && (n.pattern as Json | undefined)?.String === " " && n.content === SP;
  if (!pre && steps.length === 2 && isPrepend(steps[0]) && isReplace(steps[1])) prepend = "normalizer";
  else if (
    !norm &&
    pre?.type === "Metaspace" &&
    (pre.replacement ?? SP) === SP &&
    pre.prepend_scheme !== "never"
  ) {
    prepend = pre.prepend_scheme === "first" ? "first" : "always";
  } else return null;
  const added = (t.added_tokens as Json[]) ?? [];
  if (added.some((a) => a.normalized === true)) return null;
  if (!isSentencePieceSafe(Object.keys(vocab))) return null;
  return {
    merges: merges.map((m) =>
      typeof m === "string" ? (m.split(" ", 2) as [string, string]) : (m as [string, string]),
    ),
    vocab: new Set(Object.keys(vocab)),
    addedTokens: added.map((a) => ({
      content: String(a.content),
      lstrip: a.lstrip === true,
      rstrip: a.rstrip === true,
    })),
    prepend,
    byteFallback: true,
  };
}

/** Byte-level BPE behind a Split regex (Llama-3, Qwen2): the Split config, merges and added tokens, or null. */
function splitRegexOptions(t: Json) {
  const model = t.model as Json;
  if (model.type !== "BPE" || (model.dropout ?? null) !== null) return null;
  if (
    model.continuing_subword_prefix ||
    model.end_of_word_suffix ||
    model.ignore_merges ||
    model.byte_fallback
  )
    return null;
  const norm = t.normalizer as Json | null | undefined;
  if (norm && norm.type !== "NFC") return null;
  const pre = t.pre_tokenizer as Json | null | undefined;
  const steps = pre?.type === "Sequence" ? ((pre.pretokenizers as Json[]) ?? []) : [];
  const [split, byteLevel] = steps;
  if (steps.length !== 2 || split?.type !== "Split" || byteLevel?.type !== "ByteLevel") return null;
  if (byteLevel.use_regex !== false || byteLevel.add_prefix_space === true) return null;
  if (!(split.pattern as Json | undefined)?.Regex || split.invert === true) return null;
  if (((split.behavior as string | undefined) ?? "Isolated").toLowerCase() !== "isolated") return null;
  const added = (t.added_tokens as Json[]) ?? [];
  if (added.some((a) => a.lstrip === true || a.rstrip === true || a.normalized === true)) return null;
  const merges = model.merges;
  if (!Array.isArray(merges)) return null;
  return {
    split,
    merges: merges.map((m) =>
      typeof m === "string" ? (m.split(" ", 2) as [string, string]) : (m as [string, string]),
    ),
    added: added.map((a) => String(a.content)),
    nfc: norm?.type === "NFC",
  };
}

/**
 * Loads a student's tokenizer.json (and optionally tokenizer_config.json). Two families take a
 * hand-written counting path: SentencePiece-style BPE (Llama-2, Phi-3) and byte-level BPE with
 * GPT-2's pre-tokenizer. Every other tokenizer goes through @huggingface/tokenizers (correct,
 * but ~3 MB/s).
 */
export function createTokenCounter(tokenizerJson: unknown, tokenizerConfig: unknown = {}): TokenCounter {
  const parsed = ZTokenizerJson.safeParse(tokenizerJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`tokenizer.json: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const json = parsed.data as Json;
  const sentencePiece = sentencePieceOptions(json);
  if (sentencePiece) {
    const counter = new SentencePieceBpeCounter(sentencePiece);
    return { path: "fast", count: (text) => counter.count(text) };
  }
  const splitRegex = splitRegexOptions(json);
  if (splitRegex) {
    const counter = new SplitRegexBpeCounter(
      splitRegex.split,
      splitRegex.merges,
      splitRegex.added,
      splitRegex.nfc,
    );
    return { path: "fast", count: (text) => counter.count(text) };
  }
  const merges = fastPathMerges(json);
  if (merges) {
    const counter = new ByteLevelBpeCounter(
      merges,
      parsed.data.added_tokens.map((t) => t.content),
    );
    return { path: "fast", count: (text) => counter.count(text) };
  }
  const tokenizer = new Tokenizer(json as never, (tokenizerConfig ?? {}) as never);
  return {
    path: "generic",
    count: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
  };
}

/** The exact library count, for tests and spot checks of the fast path. */
export function createReferenceTokenCounter(
  tokenizerJson: unknown,
  tokenizerConfig: unknown = {},
): TokenCounter {
  const tokenizer = new Tokenizer(tokenizerJson as never, (tokenizerConfig ?? {}) as never);
  return {
    path: "generic",
    count: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
  };
}
