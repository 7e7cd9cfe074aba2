import { Tokenizer } from "@huggingface/tokenizers";
import { z } from "zod";
import { ByteLevelBpeCounter } from "./byte-level-bpe-counter.ts";

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
  if (!pre || pre.type !== "ByteLevel" || pre.use_regex === false || pre.add_prefix_space === true)
    return null;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || model.ignore_merges) return null;
  const merges = model.merges;
  if (!Array.isArray(merges)) return null;
  return merges.map((m) =>
    typeof m === "string" ? (m.split(" ", 2) as [string, string]) : (m as [string, string]),
  );
}

/**
 * Loads a student's tokenizer.json (and optionally tokenizer_config.json). Byte-level BPE with
 * GPT-2's pre-tokenizer takes the hand-written counting path; every other tokenizer goes
 * through @huggingface/tokenizers (correct, but ~3 MB/s).
 */
export function createTokenCounter(tokenizerJson: unknown, tokenizerConfig: unknown = {}): TokenCounter {
  const parsed = ZTokenizerJson.safeParse(tokenizerJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`tokenizer.json: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const json = parsed.data as Json;
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
