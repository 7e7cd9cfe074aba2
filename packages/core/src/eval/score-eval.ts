import { checkThinkFormat } from "./check-think-format.ts";
import { extractFinalAnswer } from "./extract-final-answer.ts";
import { isAnswerCorrect, normalizeAnswer } from "./normalize-answer.ts";

/** One generated response, scored against its task's reference. */
export interface ResponseScore {
  /** the extracted final answer, as written; null when there is none */
  answer: string | null;
  isCorrect: boolean;
  isFormatCompliant: boolean;
  reasoningChars: number;
  /** only when a token counter was given */
  reasoningTokens?: number;
}

export interface ScoreOptions {
  /** counts tokens of the reasoning text with the student's tokenizer (the server passes one) */
  countTokens?: (text: string) => number;
}

export function scoreResponse(
  response: string,
  reference: string,
  options: ScoreOptions = {},
): ResponseScore {
  const answer = extractFinalAnswer(response);
  const { isCompliant, reasoning } = checkThinkFormat(response);
  const score: ResponseScore = {
    answer,
    isCorrect: isAnswerCorrect(answer, reference),
    isFormatCompliant: isCompliant,
    reasoningChars: reasoning?.length ?? 0,
  };
  if (options.countTokens) score.reasoningTokens = reasoning ? options.countTokens(reasoning) : 0;
  return score;
}

/**
 * The most frequent normalised answer among samples (ties go to the one seen first, so the
 * vote is deterministic); null when no sample has an answer.
 */
export function majorityVote(answers: readonly (string | null)[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestCount = 0;
  for (const a of answers) {
    if (a === null) continue;
    const key = normalizeAnswer(a);
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > bestCount) {
      best = key;
      bestCount = c;
    }
  }
  return best;
}

/** Metric names follow the event protocol's snake_case (they land in an `eval` event). */
export interface EvalMetrics {
  /** tasks scored */
  n: number;
  /** samples per task */
  k: number;
  /** share of tasks whose first sample is right (greedy decoding: the accuracy) */
  accuracy: number;
  /** expected share right for one sample: mean over tasks of right/k */
  pass_at_1: number;
  /** share of tasks whose majority-voted answer is right (equals accuracy when k = 1) */
  cons_at_k: number;
  /** share of samples with exactly one well-formed think block before an answer */
  format_compliance: number;
  /** share of samples with any final answer */
  answered: number;
  mean_reasoning_chars: number;
  /** present when a token counter was given */
  mean_reasoning_tokens?: number;
}

export interface ScoredTask {
  reference: string;
  /** k ≥ 1 responses; the first is the one `accuracy` reads */
  responses: readonly string[];
}

export function computeEvalMetrics(
  tasks: readonly ScoredTask[],
  options: ScoreOptions = {},
): { metrics: EvalMetrics; scores: ResponseScore[][] } {
  const scores = tasks.map((t) => t.responses.map((r) => scoreResponse(r, t.reference, options)));
  const k = Math.max(0, ...tasks.map((t) => t.responses.length));
  const all = scores.flat();
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const metrics: EvalMetrics = {
    n: tasks.length,
    k,
    accuracy: mean(scores.map((s) => (s[0]?.isCorrect ? 1 : 0))),
    pass_at_1: mean(scores.map((s) => (s.length ? s.filter((x) => x.isCorrect).length / s.length : 0))),
    cons_at_k: mean(
      tasks.map((t, i) => {
        const vote = majorityVote((scores[i] ?? []).map((s) => s.answer));
        return vote !== null && isAnswerCorrect(vote, t.reference) ? 1 : 0;
      }),
    ),
    format_compliance: mean(all.map((s) => (s.isFormatCompliant ? 1 : 0))),
    answered: mean(all.map((s) => (s.answer !== null ? 1 : 0))),
    mean_reasoning_chars: mean(all.map((s) => s.reasoningChars)),
  };
  if (options.countTokens) metrics.mean_reasoning_tokens = mean(all.map((s) => s.reasoningTokens ?? 0));
  return { metrics, scores };
}
