import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { EngineError } from "../engine-error.ts";
import { addedToken } from "./bpe-trainer.ts";

/**
 * A model directory's tokenizer: `tokenizer.json` encoded and decoded by @huggingface/tokenizers
 * (no second encoder of ours), plus `tokenizer_config.json` (chat template, eos/pad names).
 * Kept as JSON too, so adding special tokens and saving writes the same format back.
 */
export interface EngineTokenizer {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
  /** largest id + 1, over the BPE vocab and the added tokens */
  vocabSize: number;
  encode(text: string, addSpecialTokens?: boolean): number[];
  decode(ids: number[], skipSpecialTokens?: boolean): string;
  tokenToId(token: string): number | undefined;
  /** ids that end a generation: eos_token plus any of the well-known end-of-turn tokens */
  stopTokenIds: number[];
}

const END_OF_TURN = ["<|end|>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "</s>", "<｜end▁of▁sentence｜>"];

function tokenName(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && "content" in v && typeof v.content === "string") return v.content;
  return undefined;
}

export function createTokenizer(
  json: Record<string, unknown>,
  config: Record<string, unknown> = {},
): EngineTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (e) {
    throw new EngineError("tokenizer_invalid", `tokenizer.json could not be loaded: ${(e as Error).message}`);
  }
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const stop = new Set<number>();
  const eos = tokenName(config.eos_token);
  for (const name of [eos, ...END_OF_TURN]) {
    const id = name === undefined ? undefined : tok.token_to_id(name);
    if (id !== undefined && (name === eos || END_OF_TURN.includes(name as string))) stop.add(id);
  }
  return {
    json,
    config,
    vocabSize,
    encode: (text, addSpecialTokens = false) =>
      tok.encode(text, { add_special_tokens: addSpecialTokens }).ids,
    // ids past the tokenizer (a model whose vocab_size is padded) have no text: they are dropped
    decode: (ids, skipSpecialTokens = false) =>
      tok.decode(
        ids.filter((id) => id >= 0 && id < vocabSize),
        { skip_special_tokens: skipSpecialTokens },
      ),
    tokenToId: (t) => tok.token_to_id(t),
    stopTokenIds: [...stop],
  };
}

export function loadTokenizer(dir: string): EngineTokenizer {
  const path = join(dir, "tokenizer.json");
  if (!existsSync(path)) throw new EngineError("tokenizer_invalid", `${path} does not exist`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new EngineError("tokenizer_invalid", `${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== "object" || !json.model)
    throw new EngineError("tokenizer_invalid", `${path} has no "model"`);
  const configPath = join(dir, "tokenizer_config.json");
  let config: Record<string, unknown> = {};
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (e) {
      throw new EngineError("tokenizer_invalid", `${configPath} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return createTokenizer(json, config);
}

/** Appends special tokens that are not in the vocabulary yet; returns the tokenizer and how many were new. */
export function addSpecialTokens(
  t: EngineTokenizer,
  tokens: string[],
): { tokenizer: EngineTokenizer; added: string[] } {
  const added = tokens.filter((s) => t.tokenToId(s) === undefined);
  if (added.length === 0) return { tokenizer: t, added };
  const json = structuredClone(t.json);
  const list = (json.added_tokens as unknown[] | undefined) ?? [];
  const config = structuredClone(t.config);
  const decoderMap = (config.added_tokens_decoder as Record<string, unknown> | undefined) ?? {};
  added.forEach((content, i) => {
    const entry = addedToken(t.vocabSize + i, content);
    list.push(entry);
    const { id, ...rest } = entry;
    decoderMap[String(id)] = rest;
  });
  json.added_tokens = list;
  config.added_tokens_decoder = decoderMap;
  const extra = new Set([...((config.additional_special_tokens as string[] | undefined) ?? []), ...added]);
  config.additional_special_tokens = [...extra];
  return { tokenizer: createTokenizer(json, config), added };
}

export function saveTokenizer(t: EngineTokenizer, dir: string): void {
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(t.json));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(t.config, null, 2));
}

/** tokenizer_config.json for a tokenizer this engine trained. */
export function buildTokenizerConfig(opts: {
  eosToken: string;
  padToken?: string;
  bosToken?: string | null;
  chatTemplate: string;
  specialTokens: string[];
  modelMaxLength: number;
}): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  opts.specialTokens.forEach((content, id) => {
    const { id: _id, ...rest } = addedToken(id, content);
    decoder[String(id)] = rest;
  });
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    model_max_length: opts.modelMaxLength,
    bos_token: opts.bosToken ?? null,
    eos_token: opts.eosToken,
    pad_token: opts.padToken ?? opts.eosToken,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    add_bos_token: false,
    add_eos_token: false,
    chat_template: opts.chatTemplate,
    added_tokens_decoder: decoder,
  };
}
