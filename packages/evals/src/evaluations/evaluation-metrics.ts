import { isAnswerCorrect, majorityVote } from "@distillery/core";
import { bootstrapMeanInterval, type Interval, passAtK, wilsonInterval } from "./eval-stats.ts";

/** What is stored per sample of an example. */
export interface SampleScore {
  answer: string | null;
  isCorrect: boolean;
  isFormatCompliant: boolean;
  reasoningTokens: number;
  answerTokens: number;
  completionTokens: number;
  isTruncated: boolean;
}

export interface ExampleResult {
  index: number;
  reference: string;
  scores: SampleScore[];
  seconds: number;
}

export interface EvaluationMetrics {
  n: number;
  k: number;
  /** first sample right */
  accuracy: number;
  accuracy_ci: Interval;
  /** mean over tasks of right/k */
  pass_at_1: number;
  pass_at_1_ci: Interval;
  /** majority vote right */
  cons_at_k: number;
  /** any of k right */
  pass_at_k: number;
  format_compliance: number;
  mean_reasoning_tokens: number;
  mean_answer_tokens: number;
  truncation_rate: number;
  /** generated tokens per decode second, summed over examples */
  tokens_per_second: number;
  /** accuracy (first sample) by reasoning length of that sample */
  by_reasoning_length: { bucket: string; min: number; max: number | null; n: number; accuracy: number }[];
}

const BUCKETS = [0, 1, 16, 32, 64, 128, 256, 512, 1024];

export function computeEvaluationMetrics(results: readonly ExampleResult[]): EvaluationMetrics {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const n = results.length;
  const k = Math.max(0, ...results.map((r) => r.scores.length));
  const firsts = results.map((r) => r.scores[0]);
  const correctFirst = firsts.filter((s) => s?.isCorrect).length;
  const perTaskPass1 = results.map((r) =>
    r.scores.length ? r.scores.filter((s) => s.isCorrect).length / r.scores.length : 0,
  );
  const all = results.flatMap((r) => r.scores);
  const tokens = all.reduce((s, x) => s + x.completionTokens, 0);
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  const buckets = BUCKETS.map((min, i) => {
    const max = BUCKETS[i + 1] ?? null;
    const inBucket = firsts.filter(
      (s): s is SampleScore => !!s && s.reasoningTokens >= min && (max === null || s.reasoningTokens < max),
    );
    return {
      bucket: max === null ? `${min}+` : max - min === 1 ? `${min}` : `${min}–${max - 1}`,
      min,
      max,
      n: inBucket.length,
      accuracy: mean(inBucket.map((s) => (s.isCorrect ? 1 : 0))),
    };
  }).filter((b) => b.n > 0);
  return {
    n,
    k,
    accuracy: n ? correctFirst / n : 0,
    accuracy_ci: wilsonInterval(correctFirst, n),
    pass_at_1: mean(perTaskPass1),
    pass_at_1_ci: bootstrapMeanInterval(perTaskPass1),
    cons_at_k: mean(
      results.map((r) => {
        const vote = majorityVote(r.scores.map((s) => s.answer));
        return vote !== null && isAnswerCorrect(vote, r.reference) ? 1 : 0;
      }),
    ),
    pass_at_k: mean(
      results.map((r) =>
        passAtK(r.scores.length, r.scores.filter((s) => s.isCorrect).length, Math.max(1, r.scores.length)),
      ),
    ),
    format_compliance: mean(all.map((s) => (s.isFormatCompliant ? 1 : 0))),
    mean_reasoning_tokens: mean(all.map((s) => s.reasoningTokens)),
    mean_answer_tokens: mean(all.map((s) => s.answerTokens)),
    truncation_rate: mean(all.map((s) => (s.isTruncated ? 1 : 0))),
    tokens_per_second: seconds > 0 ? tokens / seconds : 0,
    by_reasoning_length: buckets,
  };
}
