import type { EvaluationView } from "./evaluation-types.ts";

/**
 * The accuracy-by-reasoning-length chart's rows: one per bucket any evaluation has, in bucket
 * order (by the bucket's lowest length, whichever evaluation has it), with each evaluation's
 * accuracy in percent (`e<i>`) and its count (`n<i>`); an evaluation without that bucket has no value.
 */
export function lengthChartData(evaluations: Pick<EvaluationView, "metrics">[]) {
  const buckets = new Map<string, number>();
  for (const e of evaluations)
    for (const b of e.metrics?.by_reasoning_length ?? [])
      if (!buckets.has(b.bucket)) buckets.set(b.bucket, b.min ?? (Number.parseInt(b.bucket, 10) || 0));
  return [...buckets.entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([bucket]) => {
      const point: Record<string, string | number> = { bucket };
      evaluations.forEach((e, i) => {
        const b = e.metrics?.by_reasoning_length?.find((x) => x.bucket === bucket);
        if (b) {
          point[`e${i}`] = Math.round(b.accuracy * 1000) / 10;
          point[`n${i}`] = b.n;
        }
      });
      return point;
    });
}
