import { allocLike, type FArray } from "../../kernels/float-array.ts";

/**
 * Summed token cross-entropy over rows whose target is ≥ 0, and its gradient scaled by
 * `gradScale` (1 / the number of counted tokens in the optimizer step, so accumulation
 * averages over tokens, not micro-batches). The gradient overwrites `logits` to save memory
 * unless `keepLogits`.
 */
export function crossEntropy(
  logits: FArray,
  targets: Int32Array,
  rows: number,
  vocab: number,
  gradScale: number,
  computeGrad: boolean,
): { lossSum: number; count: number; dlogits: FArray | null } {
  let lossSum = 0;
  let count = 0;
  const dlogits = computeGrad ? allocLike(logits, rows * vocab) : null;
  for (let i = 0; i < rows; i++) {
    const t = targets[i] as number;
    if (t < 0) continue;
    const o = i * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp((logits[o + j] as number) - max);
    const lse = max + Math.log(sum);
    lossSum += lse - (logits[o + t] as number);
    count++;
    if (dlogits) {
      for (let j = 0; j < vocab; j++) dlogits[o + j] = Math.exp((logits[o + j] as number) - lse) * gradScale;
      dlogits[o + t] = (dlogits[o + t] as number) - gradScale;
    }
  }
  return { lossSum, count, dlogits };
}
