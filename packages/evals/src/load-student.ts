import { loadAdapterDir, loadModelDir, loadTokenizer } from "@distillery/engine-local";
// engine-local's public API only has generateText, which reloads the model on every call;
// evaluation answers hundreds of prompts, so it loads once and drives the KV-cache generator
// directly. Remove this deep import once engine-local exports generateTokens (asked for).
import { generateTokens } from "../../engine-local/src/generate/generate-tokens.ts";

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP?: number;
  seed?: number;
}

/** A model loaded once (optionally with a PEFT adapter) that answers rendered prompts. */
export interface LoadedStudent {
  /** continues a rendered prompt; returns only the new text, special tokens such as <think> kept */
  generate(prompt: string, options: GenerateOptions): { text: string; tokens: number };
  countTokens(text: string): number;
  /** the model's weight count (embedding, layers, LM head if untied): what a generated token costs */
  parameters: number;
}

export function loadStudent(modelDir: string, adapterDir?: string): LoadedStudent {
  const model = loadModelDir(modelDir);
  let tokenizer = loadTokenizer(modelDir);
  if (adapterDir) {
    loadAdapterDir(model, adapterDir);
    try {
      // an adapter that added <think>/</think> ships the grown tokenizer
      tokenizer = loadTokenizer(adapterDir);
    } catch {
      // an adapter without tokenizer files uses the base model's
    }
  }
  return {
    generate(prompt, options) {
      // a rendered chat prompt: its template placed BOS already (engine-local's tokenizeExamples)
      const ids = generateTokens(model, tokenizer.encode(prompt, false), {
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        topP: options.topP ?? 1,
        stopTokenIds: tokenizer.stopTokenIds,
        seed: options.seed ?? 0,
      });
      // a model whose embedding is padded past the tokenizer can sample an id with no text;
      // it stays counted but is left out of the decoded output rather than failing the task
      const known = ids.filter((id) => id < tokenizer.vocabSize);
      return { text: known.length ? tokenizer.decode(known, false) : "", tokens: ids.length };
    },
    countTokens: (text) => tokenizer.encode(text, false).length,
    parameters: countParameters(model.config),
  };
}

/** weights of a Llama-architecture model from its config (LoRA adapters left out: they are small) */
function countParameters(c: {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  tieWordEmbeddings?: boolean;
}): number {
  const d = c.hiddenSize;
  const attn = d * c.numHeads * c.headDim * 2 + d * c.numKvHeads * c.headDim * 2;
  const layer = attn + 3 * d * c.intermediateSize + 2 * d;
  return c.vocabSize * d * (c.tieWordEmbeddings === false ? 2 : 1) + c.numLayers * layer + d;
}
