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
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[i] as number);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp((logits[i] as number) - max);
  const lse = max + Math.log(sum);
  const own = token < vocab ? (logits[token] as number) : Number.NEGATIVE_INFINITY;
  let above = 0;
  for (let i = 0; i < vocab; i++) if ((logits[i] as number) > own) above++;
  const kk = Math.min(k, vocab);
  const topV = new Float64Array(kk).fill(Number.NEGATIVE_INFINITY);
  const topI = new Int32Array(kk).fill(-1);
  let filled = 0;
  for (let j = 0; j < vocab; j++) {
    const v = logits[j] as number;
    if (filled === kk && v <= (topV[kk - 1] as number)) continue;
    let p = filled < kk ? filled++ : kk - 1;
    while (p > 0 && (topV[p - 1] as number) < v) {
      topV[p] = topV[p - 1] as number;
      topI[p] = topI[p - 1] as number;
      p--;
    }
    topV[p] = v;
    topI[p] = j;
  }
  const top: [number, number][] = [];
  for (let b = 0; b < filled; b++) top.push([topI[b] as number, (topV[b] as number) - lse]);
  return { token, logprob: own - lse, rank: above + 1, top };
}
