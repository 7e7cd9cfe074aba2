import { BUILTIN_TEMPLATES, type BuiltinTemplateId } from "@distillery/core";
import { saveModelDir } from "./io/hf-model-dir.ts";
import { allocateModel, initializeModel } from "./model/llama-model.ts";
import type { LlamaConfig } from "./model/model-config.ts";
import { trainBpeTokenizer } from "./tokenizer/bpe-trainer.ts";
import { buildTokenizerConfig, createTokenizer } from "./tokenizer/engine-tokenizer.ts";

export interface CreateTinyModelOptions {
  /** texts the BPE tokenizer is trained on */
  corpus: Iterable<string>;
  /** BPE vocabulary size including byte and special tokens (default 512) */
  vocabSize?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  maxPositions?: number;
  tieWordEmbeddings?: boolean;
  /** chat template whose special tokens and Jinja string the model gets (default phi3) */
  template?: BuiltinTemplateId;
  /** extra special tokens beyond the template's own */
  extraSpecialTokens?: string[];
  seed?: number;
}

/**
 * Writes a randomly initialized Llama model directory with a BPE tokenizer trained on `corpus`:
 * the studio's tiny base models, trained from scratch with method "full". Returns the config.
 */
export function createTinyModel(dir: string, opts: CreateTinyModelOptions): LlamaConfig {
  const template = BUILTIN_TEMPLATES[opts.template ?? "phi3"];
  // <think> tags are left out on purpose: runs add them as new special tokens, as the recipe does
  const specials = [
    template.eosToken,
    ...template.specialTokens.filter((t) => t !== template.eosToken && t !== "<think>" && t !== "</think>"),
    ...(opts.extraSpecialTokens ?? []),
  ];
  const json = trainBpeTokenizer(opts.corpus, {
    vocabSize: opts.vocabSize ?? 512,
    specialTokens: [...new Set(specials)],
  });
  const maxPositions = opts.maxPositions ?? 512;
  const tokenizer = createTokenizer(
    json,
    buildTokenizerConfig({
      eosToken: template.eosToken,
      bosToken: template.bosToken,
      chatTemplate: template.template,
      specialTokens: [...new Set(specials)],
      modelMaxLength: maxPositions,
    }),
  );
  const hiddenSize = opts.hiddenSize ?? 64;
  const numHeads = opts.numHeads ?? 4;
  const eos = tokenizer.tokenToId(template.eosToken) ?? 0;
  const config: LlamaConfig = {
    modelType: "llama",
    vocabSize: tokenizer.vocabSize,
    hiddenSize,
    intermediateSize: opts.intermediateSize ?? hiddenSize * 4,
    numLayers: opts.numLayers ?? 2,
    numHeads,
    numKvHeads: opts.numKvHeads ?? numHeads,
    headDim: hiddenSize / numHeads,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositions,
    tieWordEmbeddings: opts.tieWordEmbeddings ?? true,
    qkvBias: false,
    oBias: false,
    bosTokenId: template.bosToken ? (tokenizer.tokenToId(template.bosToken) ?? null) : null,
    eosTokenIds: [eos],
    padTokenId: eos,
  };
  const model = allocateModel(config);
  initializeModel(model, opts.seed ?? 0);
  saveModelDir(model, dir, { tokenizer });
  return config;
}
