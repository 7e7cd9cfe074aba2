import type { Point } from "./downsample.ts";

/** One metric event as the series builder needs it. */
export interface MetricRow {
  seq: number;
  step: number;
  values: Record<string, number>;
}

export type MetricSeries = Record<string, Point[]>;

/**
 * Metric events → one series per metric name, sorted by step, one point per step. A run resumed
 * from a checkpoint re-emits the steps after it: for each (metric, step) the event with the
 * highest seq wins, so the stored series never shows a step twice. Non-finite values are dropped.
 */
export function buildMetricSeries(rows: Iterable<MetricRow>): MetricSeries {
  const latest = new Map<string, Map<number, { seq: number; value: number }>>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row.values)) {
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      let byStep = latest.get(name);
      if (!byStep) {
        byStep = new Map();
        latest.set(name, byStep);
      }
      const seen = byStep.get(row.step);
      if (!seen || seen.seq < row.seq) byStep.set(row.step, { seq: row.seq, value });
    }
  }
  const series: MetricSeries = {};
  for (const [name, byStep] of latest) {
    series[name] = [...byStep.entries()].map(([step, p]) => [step, p.value] as Point).sort((a, b) => a[0] - b[0]);
  }
  return series;
}

/**
 * Appends live points to a (possibly downsampled) series. A point at a step the series already
 * has replaces it (a resumed run re-emitting that step); otherwise it is inserted in step order.
 */
export function mergeSeriesPoint(series: readonly Point[], point: Point): Point[] {
  const last = series[series.length - 1];
  if (!last || last[0] < point[0]) return [...series, point];
  const out = series.filter((p) => p[0] !== point[0]);
  let i = out.length;
  while (i > 0 && (out[i - 1] as Point)[0] > point[0]) i--;
  out.splice(i, 0, point);
  return out;
}

/** Exponential moving average with TensorBoard's debiasing; `weight` 0 returns the series. */
export function smoothSeries(series: readonly Point[], weight: number): Point[] {
  if (weight <= 0) return series.slice();
  let last = 0;
  let debias = 0;
  return series.map(([x, y]) => {
    last = last * weight + (1 - weight) * y;
    debias = debias * weight + (1 - weight);
    return [x, last / debias] as Point;
  });
}
