/**
 * `npm run bench:generate -w packages/engine-local`: greedy decoding speed (KV cache, one
 * thread) for random-init models of hidden 64 / 128 / 256, 4 layers, vocab 512: 5 × 100 new
 * tokens after a 20-token prompt. Prints figures, then one JSON line; asserts nothing.
 */
import { generateTokens } from "../src/generate/generate-tokens.ts";
import { allocateModel, initializeModel } from "../src/model/llama-model.ts";
import { makeTinyConfig } from "../src/model/test-helpers.ts";

const summary: Record<string, { tokens_per_s: number; ms_per_token: number }> = {};
for (const hidden of [64, 128, 256]) {
  const config = makeTinyConfig({
    vocabSize: 512,
    hiddenSize: hidden,
    intermediateSize: hidden * 4,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
    headDim: hidden / 4,
    maxPositions: 256,
  });
  const model = allocateModel(config);
  initializeModel(model, 0, 0.02);
  const prompt = Array.from({ length: 20 }, (_, i) => i + 5);
  const opts = { maxNewTokens: 100, temperature: 0, topP: 1, stopTokenIds: [], seed: 0 };
  generateTokens(model, prompt, { ...opts, maxNewTokens: 20 }); // warm-up
  const t0 = performance.now();
  let n = 0;
  for (let r = 0; r < 5; r++) n += generateTokens(model, prompt, opts).length;
  const ms = performance.now() - t0;
  const tps = Math.round(n / (ms / 1000));
  console.log(`hidden ${hidden}: ${tps} tokens/s (${(ms / n).toFixed(2)} ms/token)`);
  summary[`d${hidden}`] = { tokens_per_s: tps, ms_per_token: Math.round((ms / n) * 1000) / 1000 };
}
console.log(JSON.stringify(summary));
