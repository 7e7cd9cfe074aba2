/**
 * Sampling for serving: temperature, top-p and a per-sequence seeded generator, plus the
 * log-probabilities OpenAI returns (`logprobs` / `top_logprobs`), taken from the model's own
 * distribution (temperature 1, before top-p), as vLLM does by default.
 */
export interface SampleSettings {
  /** 0 = greedy */
  temperature: number;
  topP: number;
  /** how many alternatives per token (0..20); -1 = no logprobs at all */
  topLogprobs: number;
}

export interface SampledToken {
  id: number;
  /** log-probability of `id`; present when logprobs were asked for */
  logprob?: number;
  /** the most likely tokens with their log-probabilities, best first */
  top?: [number, number][];
}

/** mulberry32: small, fast, and the same stream for the same seed on every machine */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function argmax(logits: Float32Array, vocab: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

/**
 * Picks the next token among the first `vocab` logits (a model's embedding may be padded past
 * its tokenizer; those ids are never sampled).
 */
export function sampleNext(
  logits: Float32Array,
  vocab: number,
  settings: SampleSettings,
  rng: () => number,
): SampledToken {
  let id: number;
  if (settings.temperature <= 0) {
    id = argmax(logits, vocab);
  } else {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[i] as number);
    const probs = new Float64Array(vocab);
    let sum = 0;
    for (let i = 0; i < vocab; i++) {
      probs[i] = Math.exp(((logits[i] as number) - max) / settings.temperature);
      sum += probs[i] as number;
    }
    if (settings.topP >= 1) {
      let r = rng() * sum;
      id = vocab - 1;
      for (let i = 0; i < vocab; i++) {
        r -= probs[i] as number;
        if (r <= 0) {
          id = i;
          break;
        }
      }
    } else {
      const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
      let kept = 0;
      let cum = 0;
      for (const i of order) {
        cum += probs[i]! / sum;
        kept++;
        if (cum >= settings.topP) break;
      }
      let total = 0;
      for (let j = 0; j < kept; j++) total += probs[order[j]!]!;
      let r = rng() * total;
      id = order[kept - 1]!;
      for (let j = 0; j < kept; j++) {
        r -= probs[order[j]!]!;
        if (r <= 0) {
          id = order[j]!;
          break;
        }
      }
    }
  }
  if (settings.topLogprobs < 0) return { id };
  return { id, ...logprobsOf(logits, vocab, id, settings.topLogprobs) };
}

/** log-softmax of the raw logits at `id`, and the `k` best alternatives */
export function logprobsOf(
  logits: Float32Array,
  vocab: number,
  id: number,
  k: number,
): { logprob: number; top: [number, number][] } {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[i] as number);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp((logits[i] as number) - max);
  const logZ = max + Math.log(sum);
  const top: [number, number][] = [];
  if (k > 0) {
    // partial selection: keep the k best seen so far, sorted
    for (let i = 0; i < vocab; i++) {
      const v = logits[i] as number;
      if (top.length < k || v > top[top.length - 1]![1]) {
        top.push([i, v]);
        top.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        if (top.length > k) top.pop();
      }
    }
  }
  return {
    logprob: (logits[id] as number) - logZ,
    top: top.map(([i, v]) => [i, v - logZ]),
  };
}
