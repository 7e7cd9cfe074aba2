/** What the evaluation pages read (client-safe shapes of the API's answers). */
export interface Interval {
  low: number;
  high: number;
}

export interface EvaluationMetricsView {
  n: number;
  k: number;
  accuracy: number;
  accuracy_ci?: Interval;
  pass_at_1: number;
  pass_at_1_ci?: Interval;
  cons_at_k: number;
  pass_at_k?: number;
  format_compliance: number;
  mean_reasoning_tokens?: number;
  mean_answer_tokens?: number;
  truncation_rate?: number;
  tokens_per_second?: number;
  by_reasoning_length?: { bucket: string; min?: number; max?: number | null; n: number; accuracy: number }[];
}

export interface EvaluationView {
  id: string;
  name: string;
  model: string;
  evalSet: { kind: string; versionId?: string; runId?: string };
  settings: { temperature?: number; topP?: number; maxTokens?: number; k?: number; seed?: number };
  status: string;
  runId: string | null;
  phase: string | null;
  total: number;
  done: number;
  metrics: EvaluationMetricsView | null;
  error: string | null;
  /** metrics only (a run's own before/after evaluation): no per-example rows */
  hasExamples: boolean;
  createdAt: string;
  finishedAt: string | null;
}

export interface CompareRow {
  index: number;
  prompt: string;
  reference: string;
  /** one cell per evaluation, in the order asked; null when that evaluation has no row */
  cells: ({ output: string; isCorrect: boolean; reasoningTokens: number; isTruncated: boolean } | null)[];
}

export const COMPARE_FILTERS = ["all", "wrong", "fixed", "broken"] as const;
export type CompareFilter = (typeof COMPARE_FILTERS)[number];
