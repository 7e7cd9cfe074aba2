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
export function buildMetricSeries(input: Iterable<MetricRow>): MetricSeries {
  const rows = Array.isArray(input) ? (input as MetricRow[]) : [...input];
  let isSorted = true;
  for (let i = 1; i < rows.length && isSorted; i++)
    isSorted = (rows[i - 1] as MetricRow).seq < (rows[i] as MetricRow).seq;
  const ordered = isSorted ? rows : [...rows].sort((a, b) => a.seq - b.seq);
  // fast path: in seq order, steps usually only grow; a key whose step goes back (a resume)
  // is deduplicated afterwards
  const series: Record<string, Point[]> = {};
  const needsDedupe = new Set<string>();
  for (const row of ordered) {
    for (const name in row.values) {
      const value = row.values[name];
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      let points = series[name];
      if (!points) {
        points = [];
        series[name] = points;
      }
      const last = points[points.length - 1];
      if (last && last[0] >= row.step) needsDedupe.add(name);
      points.push([row.step, value]);
    }
  }
  for (const name of needsDedupe) {
    // later (higher seq) points overwrite earlier ones at the same step
    const byStep = new Map<number, number>();
    for (const [step, value] of series[name] as Point[]) byStep.set(step, value);
    series[name] = [...byStep.entries()]
      .map(([step, value]) => [step, value] as Point)
      .sort((a, b) => a[0] - b[0]);
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
