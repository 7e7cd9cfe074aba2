import {
  type CanonicalExample,
  type ChatTemplateSpec,
  formatAssistantContent,
  getPromptText,
  toEngineExample,
} from "@distillery/core";
import type { TokenCounter } from "./token-counter.ts";

export interface Histogram {
  /** bin i counts values in [edges[i], edges[i+1]); the last bin also holds everything above */
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface TokenStats {
  rows: number;
  maxLength: number;
  /** rows whose total exceeds maxLength (they would be truncated) */
  truncated: number;
  histograms: { prompt: Histogram; reasoning: Histogram; answer: Histogram; total: Histogram };
  think: { ok: number; separate: number; missing: number; unclosed: number };
  withAnswer: number;
  withoutAnswer: number;
}

export interface TokenStatsOptions {
  counter: TokenCounter;
  /** the student's template: adds its per-row overhead (role markers, eos) to the total */
  template?: ChatTemplateSpec;
  maxLength?: number;
  binWidth?: number;
  bins?: number;
}

/** Lengths are kept as exact counts per token length up to this cap (enough for percentiles). */
const EXACT_CAP = 1 << 17;

class LengthTally {
  private readonly exact = new Uint32Array(EXACT_CAP + 1);
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = 0;
  add(v: number) {
    const at = Math.min(v, EXACT_CAP);
    this.exact[at] = (this.exact[at] as number) + 1;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }
  histogram(binWidth: number, bins: number): Histogram {
    const counts = new Array<number>(bins).fill(0);
    const edges = Array.from({ length: bins + 1 }, (_, i) => i * binWidth);
    const pct = [0.5, 0.9, 0.99].map((q) => Math.ceil(q * this.n));
    const found = [0, 0, 0];
    let seen = 0;
    for (let v = 0; v <= EXACT_CAP; v++) {
      const c = this.exact[v] as number;
      if (c === 0) continue;
      const bin = Math.min(bins - 1, Math.floor(v / binWidth));
      counts[bin] = (counts[bin] as number) + c;
      const before = seen;
      seen += c;
      pct.forEach((p, i) => {
        if (before < p && seen >= p) found[i] = v;
      });
    }
    return {
      edges,
      counts,
      min: this.n ? this.lo : 0,
      max: this.hi,
      mean: this.n ? this.sum / this.n : 0,
      p50: found[0] as number,
      p90: found[1] as number,
      p99: found[2] as number,
    };
  }
}

/**
 * Accumulates token statistics row by row (feed it from ingest's onRow or from a version's
 * rows). The template overhead is measured once per conversation length by rendering the row's
 * structure with empty texts, so the total is what the engine sees to within a token or two at
 * text/marker boundaries, without rendering Jinja for every row.
 */
/**
 * Tokens a template adds to a row of this structure: the rendering of the row with empty texts.
 * Should a template refuse empty texts, one-character texts are rendered instead and their own
 * tokens taken off.
 */
function measureOverhead(empty: CanonicalExample, template: ChatTemplateSpec, counter: TokenCounter): number {
  try {
    const parts = toEngineExample(empty, template);
    return counter.count(parts.prompt) + counter.count(parts.completion);
  } catch {
    const x = "Ω"; // a letter no template writes, so the answer is found as itself
    const filled: CanonicalExample = {
      ...empty,
      ...(empty.system !== undefined ? { system: x } : {}),
      messages: empty.messages.map((m) => ({ ...m, content: x })),
      reasoning: empty.reasoning === null ? null : x,
      answer: x,
    };
    const parts = toEngineExample(filled, template);
    const texts =
      (empty.system !== undefined ? 1 : 0) + empty.messages.length + (empty.reasoning === null ? 0 : 1) + 1;
    return Math.max(
      0,
      counter.count(parts.prompt) + counter.count(parts.completion) - texts * counter.count(x),
    );
  }
}

export function createTokenStats(options: TokenStatsOptions) {
  const maxLength = options.maxLength ?? 2048;
  const bins = options.bins ?? 32;
  const binWidth = options.binWidth ?? Math.max(1, Math.ceil(maxLength / (bins / 2)));
  const { counter, template } = options;
  const tallies = {
    prompt: new LengthTally(),
    reasoning: new LengthTally(),
    answer: new LengthTally(),
    total: new LengthTally(),
  };
  const think = { ok: 0, separate: 0, missing: 0, unclosed: 0 };
  const overheadByShape = new Map<string, number>();
  let rows = 0;
  let truncated = 0;
  let withAnswer = 0;

  const overhead = (e: CanonicalExample): number => {
    if (!template) return 0;
    const key = `${e.system !== undefined ? "s" : ""}${e.messages.length}:${e.reasoning === null ? 0 : 1}`;
    let o = overheadByShape.get(key);
    if (o === undefined) {
      const empty: CanonicalExample = {
        ...(e.system !== undefined ? { system: "" } : {}),
        messages: e.messages.map((m) => ({ role: m.role, content: "" })),
        reasoning: e.reasoning === null ? null : "",
        answer: "",
        think: e.think,
      };
      o = measureOverhead(empty, template, counter);
      overheadByShape.set(key, o);
    }
    return o;
  };

  return {
    add(e: CanonicalExample) {
      rows++;
      const prompt = counter.count(getPromptText(e));
      const reasoning = e.reasoning === null ? 0 : counter.count(e.reasoning);
      const answer = counter.count(e.answer);
      const total = prompt + reasoning + answer + overhead(e);
      tallies.prompt.add(prompt);
      tallies.reasoning.add(reasoning);
      tallies.answer.add(answer);
      tallies.total.add(total);
      if (total > maxLength) truncated++;
      think[e.think]++;
      if (e.answer.trim() !== "") withAnswer++;
    },
    result(): TokenStats {
      const h = (t: LengthTally) => t.histogram(binWidth, bins);
      return {
        rows,
        maxLength,
        truncated,
        histograms: {
          prompt: h(tallies.prompt),
          reasoning: h(tallies.reasoning),
          answer: h(tallies.answer),
          total: h(tallies.total),
        },
        think: { ...think },
        withAnswer,
        withoutAnswer: rows - withAnswer,
      };
    },
  };
}
export type TokenStatsAccumulator = ReturnType<typeof createTokenStats>;

/** Exact per-row lengths via the rendered engine example (the max-tokens filter uses this). */
export function countExampleTokens(e: CanonicalExample, counter: TokenCounter, template?: ChatTemplateSpec) {
  if (!template) {
    const prompt = counter.count(getPromptText(e));
    const completion = counter.count(formatAssistantContent(e.reasoning, e.answer));
    return { prompt, completion, total: prompt + completion };
  }
  const parts = toEngineExample(e, template);
  const prompt = counter.count(parts.prompt);
  const completion = counter.count(parts.completion);
  return { prompt, completion, total: prompt + completion };
}
