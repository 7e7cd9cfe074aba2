import { withPackedWeights } from "../kernels/matmul-wasm.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { type LlamaModel, packableWeights } from "../model/llama-model.ts";
import { createKvCache, forwardIncremental } from "./kv-cache-forward.ts";
import { sampleToken } from "./sample-token.ts";

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  stopTokenIds: number[];
  seed: number;
}

/**
 * Generates after `promptIds` with a KV cache; the stop token itself is not returned. The
 * weights are transposed into wasm memory once for the whole generation, and each step's
 * temporaries live in an arena freed after the step.
 */
export function generateTokens(model: LlamaModel, promptIds: number[], opts: GenerateOptions): number[] {
  return runInArena(() =>
    withPackedWeights(packableWeights(model, false), () => generateUnpacked(model, promptIds, opts)),
  );
}

function generateUnpacked(model: LlamaModel, promptIds: number[], opts: GenerateOptions): number[] {
  if (promptIds.length === 0) throw new Error("generate needs at least one prompt token");
  const capacity = Math.min(model.config.maxPositions, promptIds.length + opts.maxNewTokens);
  const budget = Math.max(0, capacity - promptIds.length);
  const cache = createKvCache(model, Math.max(capacity, promptIds.length));
  const rng = Rng.fromSeed(opts.seed, 3);
  const stops = new Set(opts.stopTokenIds);
  const out: number[] = [];
  let logits = runInArena(() => forwardIncremental(model, cache, promptIds));
  for (let i = 0; i < budget; i++) {
    const next = sampleToken(logits, opts.temperature, opts.topP, rng);
    if (stops.has(next)) break;
    out.push(next);
    if (i + 1 < budget) logits = runInArena(() => forwardIncremental(model, cache, [next]));
  }
  return out;
}
