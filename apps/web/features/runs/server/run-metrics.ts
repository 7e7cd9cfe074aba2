import { type Db, TERMINAL_RUN_STATUSES } from "@distillery/db";
import { downsampleLttb } from "../lib/downsample.ts";
import { buildMetricSeries, type MetricRow, type MetricSeries } from "../lib/metric-series.ts";

/** Points per series the charts get; a 100k-point run arrives as a few kB per series. */
export const MAX_POINTS_PER_SERIES = 2000;

export interface RunMetrics {
  series: MetricSeries;
  /** points per series before downsampling */
  counts: Record<string, number>;
  /** every metric event with seq ≤ throughSeq is in the series: live tailing starts after it */
  throughSeq: number;
}

/**
 * A run's metric series for its charts: one point per (metric, step), the latest seq winning
 * where a resumed run re-emitted a step, downsampled on the server (LTTB) so a long run opens
 * quickly. Reads `lastSeq` first: events up to it are committed (appended in the same
 * transaction that raises it), so the snapshot has no hole below throughSeq.
 */
export async function queryRunMetrics(
  db: Db,
  runId: string,
  maxPoints = MAX_POINTS_PER_SERIES,
): Promise<RunMetrics> {
  const run = await db.run.findUnique({ where: { id: runId }, select: { lastSeq: true, status: true } });
  const throughSeq = run?.lastSeq ?? -1;
  if (!run || throughSeq < 0) return { series: {}, counts: {}, throughSeq };
  // a finished run's series never change again: keep the last few computed ones
  const isFinished = TERMINAL_RUN_STATUSES.includes(run.status);
  const key = `${runId}:${throughSeq}:${maxPoints}`;
  const cached = isFinished ? finishedCache.get(key) : undefined;
  if (cached) return cached;
  const rows = await db.$queryRaw<MetricRow[]>`
    SELECT seq, step, data->'values' AS "values" FROM "RunEvent"
    WHERE "runId" = ${runId} AND type = 'metric' AND seq <= ${throughSeq}
    ORDER BY seq`;
  const full = buildMetricSeries(rows);
  const series: MetricSeries = {};
  const counts: Record<string, number> = {};
  for (const [name, points] of Object.entries(full)) {
    counts[name] = points.length;
    series[name] = downsampleLttb(points, maxPoints);
  }
  const result = { series, counts, throughSeq };
  if (isFinished) {
    finishedCache.set(key, result);
    if (finishedCache.size > FINISHED_CACHE_SIZE)
      finishedCache.delete(finishedCache.keys().next().value as string);
  }
  return result;
}

const FINISHED_CACHE_SIZE = 32;
const finishedCache = new Map<string, RunMetrics>();
