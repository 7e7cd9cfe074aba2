import { topKRow } from "@distillery/engine-local";

/**
 * Prompt scoring for vLLM's `prompt_logprobs` extension: the model's own log-probability
 * (temperature 1, as vLLM returns them) of every prompt token after the first, its rank in the
 * vocabulary, and the `k` most likely tokens at that position.
 */
export interface PromptTokenScore {
  /** the prompt token at this position */
  token: number;
  logprob: number;
  /** 1 + how many tokens are more likely (vLLM's `rank`) */
  rank: number;
  /** the k most likely tokens with their log-probabilities, best first (ties: lower id first) */
  top: [number, number][];
}

/** Scores `token` under one next-token distribution (the first `vocab` logits). */
export function scorePosition(
  logits: Float32Array,
  vocab: number,
  token: number,
  k: number,
): PromptTokenScore {
  const kk = Math.min(k, vocab);
  const ids = new Int32Array(kk);
  const logprobs = new Float64Array(kk);
  const lse = topKRow(logits, 0, vocab, kk, ids, logprobs, 0);
  const own = token < vocab ? (logits[token] as number) : Number.NEGATIVE_INFINITY;
  let above = 0;
  for (let i = 0; i < vocab; i++) if ((logits[i] as number) > own) above++;
  const top: [number, number][] = Array.from(ids, (id, b) => [id, logprobs[b] as number]);
  return { token, logprob: own - lse, rank: above + 1, top };
}
