import { generateTokens } from "./generate/generate-tokens.ts";
import { loadModelDir } from "./io/hf-model-dir.ts";
import { loadAdapterDir } from "./io/peft-adapter.ts";
import { loadTokenizer } from "./tokenizer/engine-tokenizer.ts";

export interface GenerateTextOptions {
  maxNewTokens?: number;
  /** 0 = greedy (default) */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** a PEFT adapter dir applied on top of the model (its tokenizer is used when it has one) */
  adapterDir?: string;
  /** extra stop strings' token ids are the tokenizer's eos and end-of-turn tokens plus these */
  stopTokens?: string[];
  /** decode special tokens such as <think> into the text (default true) */
  keepSpecialTokens?: boolean;
}

/** Loads a model dir (optionally + adapter) and continues `prompt`; returns only the new text. */
export function generateText(
  modelDir: string,
  prompt: string,
  opts: GenerateTextOptions = {},
): { text: string; tokenIds: number[] } {
  const model = loadModelDir(modelDir);
  let tokenizer = loadTokenizer(modelDir);
  if (opts.adapterDir) {
    loadAdapterDir(model, opts.adapterDir);
    try {
      tokenizer = loadTokenizer(opts.adapterDir);
    } catch {
      // an adapter without tokenizer files uses the base model's
    }
  }
  const stops = [...tokenizer.stopTokenIds];
  for (const s of opts.stopTokens ?? []) {
    const id = tokenizer.tokenToId(s);
    if (id !== undefined) stops.push(id);
  }
  const tokenIds = generateTokens(model, tokenizer.encode(prompt, true), {
    maxNewTokens: opts.maxNewTokens ?? 64,
    temperature: opts.temperature ?? 0,
    topP: opts.topP ?? 1,
    stopTokenIds: stops,
    seed: opts.seed ?? 0,
  });
  return { text: tokenizer.decode(tokenIds, !(opts.keepSpecialTokens ?? true)), tokenIds };
}
