import type { Point } from "./downsample.ts";
import type { MetricSeries } from "./metric-series.ts";

/**
 * The charts of a run, in order. Every run has the first four; the distillation charts
 * (`isOptional`) appear only when the run reports their series: logit and on-policy runs do,
 * an SFT run never does, so it shows no empty "waiting for KD loss" panel.
 */
export interface RunChartSpec {
  id: string;
  title: string;
  metrics: readonly string[];
  /** the y axis's quantity and unit */
  yLabel: string;
  isOptional?: boolean;
}

export const RUN_CHARTS: readonly RunChartSpec[] = [
  { id: "loss", title: "Loss", metrics: ["loss", "eval_loss"], yLabel: "loss (nats / token)" },
  { id: "learning_rate", title: "Learning rate", metrics: ["learning_rate"], yLabel: "learning rate" },
  { id: "grad_norm", title: "Grad norm", metrics: ["grad_norm"], yLabel: "gradient L2 norm" },
  { id: "tokens_per_second", title: "Tokens / s", metrics: ["tokens_per_second"], yLabel: "tokens / second" },
  {
    id: "heldout_accuracy",
    title: "Held-out accuracy",
    metrics: ["heldout_accuracy"],
    yLabel: "share of problems right (0–1)",
    isOptional: true,
  },
  {
    id: "distill_loss",
    title: "KD and CE loss",
    metrics: ["kd_loss", "ce_loss"],
    yLabel: "nats / token",
    isOptional: true,
  },
  {
    id: "top1_agreement",
    title: "Teacher–student top-1 agreement",
    metrics: ["top1_agreement"],
    yLabel: "share of tokens (0–1)",
    isOptional: true,
  },
  {
    id: "sampled_length",
    title: "Sampled length",
    metrics: ["sampled_length"],
    yLabel: "tokens per sample",
    isOptional: true,
  },
  {
    id: "teacher_logprob",
    title: "Teacher log-prob",
    metrics: ["teacher_logprob"],
    yLabel: "log-prob (nats / token)",
    isOptional: true,
  },
];

export const METRIC_LABELS: Record<string, string> = {
  loss: "train loss",
  eval_loss: "eval loss",
  learning_rate: "learning rate",
  grad_norm: "grad norm",
  tokens_per_second: "tokens/s",
  kd_loss: "KD loss (divergence to the teacher)",
  ce_loss: "CE loss (on the data)",
  top1_agreement: "top-1 agreement",
  sampled_length: "mean sampled length",
  teacher_logprob: "teacher's mean log-prob of the tokens",
  heldout_accuracy: "held-out accuracy (every N steps)",
};

const hasPoints = (series: MetricSeries, m: string) => (series[m]?.length ?? 0) > 0;

/** The run page's charts: the fixed ones, and each distillation chart once its series exist. */
export function runChartsFor(series: MetricSeries): RunChartSpec[] {
  return RUN_CHARTS.filter((c) => !c.isOptional || c.metrics.some((m) => hasPoints(series, m)));
}

export interface CompareChart {
  metric: string;
  title: string;
  yLabel: string;
  /** the runs (by their index in the compared list) that have this series */
  runIndexes: number[];
}

/**
 * The compare view: one chart per metric with every run overlaid. A distillation metric is
 * charted when at least one run has it, and only the runs that have it are drawn there (an
 * SFT run has no KD loss to draw as zero).
 */
export function compareChartsFor(runs: { series: MetricSeries }[]): CompareChart[] {
  const out: CompareChart[] = [];
  for (const c of RUN_CHARTS)
    for (const m of c.metrics) {
      const having = runs.flatMap((r, i) => (hasPoints(r.series, m) ? [i] : []));
      if (c.isOptional && having.length === 0) continue;
      out.push({
        metric: m,
        title: METRIC_LABELS[m] ?? m,
        yLabel: c.yLabel,
        runIndexes: c.isOptional ? having : runs.map((_, i) => i),
      });
    }
  return out;
}

/** The lines of one run chart, labelled, for the metrics the run has. */
export function runChartLines(chart: RunChartSpec, series: MetricSeries) {
  return chart.metrics
    .filter((m) => hasPoints(series, m))
    .map((m) => ({ key: m, label: METRIC_LABELS[m] ?? m, points: series[m] as readonly Point[] }));
}
