/**
 * Does the max sequence length fit the model and the data? Refused over the model's context
 * window; otherwise the share of rows the engine would truncate (their end goes first: the answer)
 * and of rows whose prompt alone fills the window (nothing of the completion is left to learn),
 * estimated from the version's token histograms.
 */
export interface LengthHistogram {
  edges: number[];
  counts: number[];
  max: number;
  p99?: number;
}

export interface VersionTokenStats {
  rows: number;
  /** the length the stats counted `truncated` at */
  maxLength?: number;
  truncated?: number;
  total?: LengthHistogram;
  prompt?: LengthHistogram;
  /** whose tokenizer counted them (null: bytes, a rough upper bound) */
  tokenizerName?: string | null;
}

/** Share of values above `limit` (strictly), interpolating inside the bin the limit falls in. */
export function shareAbove(h: LengthHistogram | undefined, limit: number): number {
  if (!h) return 0;
  const n = h.counts.reduce((a, b) => a + b, 0);
  if (n === 0 || h.max <= limit) return 0;
  let above = 0;
  h.counts.forEach((c, i) => {
    const lo = h.edges[i] ?? 0;
    const hi = i === h.counts.length - 1 ? h.max + 1 : (h.edges[i + 1] ?? lo);
    if (lo > limit) above += c;
    else if (hi > limit + 1 && hi > lo) above += (c * (hi - (limit + 1))) / (hi - lo);
  });
  return Math.min(1, above / n);
}

export interface SequenceFit {
  /** refuses the launch */
  error?: string;
  /** shown, launch allowed */
  warning?: string;
  truncatedShare: number | null;
  answerLostShare: number | null;
}

const pct = (x: number) => (x > 0 && x < 0.001 ? "<0.1%" : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`);

export function checkSequenceFit(input: {
  maxSeqLength: number;
  contextLength: number | null;
  modelName?: string;
  stats: VersionTokenStats | null;
}): SequenceFit {
  const { maxSeqLength: max, contextLength, stats } = input;
  if (contextLength !== null && max > contextLength)
    return {
      error: `${max} is over ${input.modelName ?? "the model"}'s context of ${contextLength.toLocaleString("en-US")} tokens: it cannot attend past it`,
      truncatedShare: null,
      answerLostShare: null,
    };
  if (!stats?.total) return { truncatedShare: null, answerLostShare: null };
  const truncatedShare =
    stats.maxLength === max && typeof stats.truncated === "number" && stats.rows > 0
      ? stats.truncated / stats.rows
      : shareAbove(stats.total, max);
  // a prompt of `max` tokens or more leaves no room for a single completion token
  const answerLostShare = shareAbove(stats.prompt, max - 1);
  if (truncatedShare === 0) return { truncatedShare, answerLostShare };
  // counted with another model's tokenizer: close for a related family, off for another one
  const otherTokenizer =
    input.modelName && stats.tokenizerName && stats.tokenizerName !== input.modelName
      ? `, not ${input.modelName}'s: recount the version with it for exact figures`
      : "";
  const counted = stats.tokenizerName
    ? `counted with ${stats.tokenizerName}'s tokenizer${otherTokenizer}`
    : "counted in bytes, not tokens: recount the version with the student's tokenizer";
  const parts = [
    `${pct(truncatedShare)} of rows are longer than ${max} tokens and lose their end (the answer first)`,
  ];
  if (answerLostShare > 0)
    parts.push(`${pct(answerLostShare)} have a prompt that fills the window: they teach no answer at all`);
  const fits = stats.total.p99 ? ` ${Math.ceil(stats.total.p99 / 64) * 64} keeps 99% of rows whole.` : "";
  return { warning: `${parts.join("; ")} (${counted}).${fits}`, truncatedShare, answerLostShare };
}
