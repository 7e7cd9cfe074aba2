import "server-only";
import { getContext } from "@/lib/server/context.ts";

/**
 * Tokens per second that workers measured, per engine: the median of the latest `tokens_per_second`
 * of recent runs (the worker keeps each run's latest metric values in summary.final).
 */
export async function measureThroughput(workspaceId: string) {
  const rows = await getContext().db.$queryRaw<{ engine: string; tps: number[] }[]>`
    SELECT engine, (array_agg(tps ORDER BY at DESC))[1:20] AS tps FROM (
      SELECT engine, (summary->'final'->>'tokens_per_second')::float8 AS tps, COALESCE("finishedAt", "updatedAt") AS at
      FROM "Run"
      WHERE "workspaceId" = ${workspaceId} AND jsonb_typeof(summary->'final'->'tokens_per_second') = 'number'
    ) t WHERE tps > 0 GROUP BY engine`;
  const result: Record<string, { tokensPerSecond: number; runs: number }> = {};
  for (const r of rows) {
    const sorted = [...r.tps].sort((a, b) => a - b);
    result[r.engine] = {
      tokensPerSecond: sorted[Math.floor(sorted.length / 2)] as number,
      runs: sorted.length,
    };
  }
  return result;
}
