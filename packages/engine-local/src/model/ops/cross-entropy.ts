import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
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
  const k = dlogits ? kernelForArena(logits, dlogits) : null;
  for (let i = 0; i < rows; i++) {
    const t = targets[i] as number;
    if (t < 0) continue;
    const o = i * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    if (k && dlogits) {
      sum = k.expShiftedRow(logits.byteOffset + o * 4, dlogits.byteOffset + o * 4, vocab, max);
      const scale = gradScale / sum;
      for (let j = 0; j < vocab; j++) dlogits[o + j] = (dlogits[o + j] as number) * scale;
      dlogits[o + t] = (dlogits[o + t] as number) - gradScale;
    } else if (dlogits) {
      // keep exp(x − max) in the gradient buffer so each logit is exponentiated once
      for (let j = 0; j < vocab; j++) {
        const e = Math.exp((logits[o + j] as number) - max);
        dlogits[o + j] = e;
        sum += e;
      }
      const scale = gradScale / sum;
      for (let j = 0; j < vocab; j++) dlogits[o + j] = (dlogits[o + j] as number) * scale;
      dlogits[o + t] = (dlogits[o + t] as number) - gradScale;
    } else {
      for (let j = 0; j < vocab; j++) sum += Math.exp((logits[o + j] as number) - max);
    }
    lossSum += max + Math.log(sum) - (logits[o + t] as number);
    count++;
  }
  return { lossSum, count, dlogits };
}
