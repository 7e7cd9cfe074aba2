import type { FArray } from "../kernels/float-array.ts";
import type { Rng } from "../kernels/rng.ts";

/** Greedy when temperature is 0; otherwise temperature softmax restricted to the top-p nucleus. */
export function sampleToken(logits: FArray, temperature: number, topP: number, rng: Rng): number {
  const V = logits.length;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
    return best;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] as number);
  const probs = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    probs[i] = Math.exp(((logits[i] as number) - max) / temperature);
    sum += probs[i]!;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  let kept = 0;
  let cum = 0;
  for (const i of order) {
    cum += probs[i]! / sum;
    kept++;
    if (cum >= topP) break;
  }
  const nucleus = order.slice(0, kept);
  const total = nucleus.reduce((s, i) => s + probs[i]!, 0);
  let r = rng.next() * total;
  for (const i of nucleus) {
    r -= probs[i]!;
    if (r <= 0) return i;
  }
  return nucleus[nucleus.length - 1] as number;
}
