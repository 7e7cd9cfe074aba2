import "server-only";
import { getContext } from "@/lib/server/context.ts";

export interface EngineThroughput {
  /** median of the latest `tokens_per_second` of recent runs, whatever their model */
  tokensPerSecond: number;
  runs: number;
  /**
   * median of tokens/s × the run's model parameters (runs whose model has a count): a step's work
   * grows with the parameter count, so this carries a machine's speed over to a model of another
   * size (tokens/s ≈ this / parameters)
   */
  parameterTokensPerSecond: number | null;
  sizedRuns: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Tokens per second that workers measured, per engine: the latest `tokens_per_second` of the 20
 * most recent runs (the worker keeps each run's latest metric values in summary.final).
 */
export async function measureThroughput(workspaceId: string) {
  const rows = await getContext().db.$queryRaw<{ engine: string; tps: number; parameters: number | null }[]>`
    SELECT engine, tps, parameters FROM (
      SELECT r.engine, (r.summary->'final'->>'tokens_per_second')::float8 AS tps, m.parameters::float8 AS parameters,
        row_number() OVER (PARTITION BY r.engine ORDER BY COALESCE(r."finishedAt", r."updatedAt") DESC) AS n
      FROM "Run" r LEFT JOIN "Model" m ON m.id = r."modelId"
      WHERE r."workspaceId" = ${workspaceId} AND jsonb_typeof(r.summary->'final'->'tokens_per_second') = 'number'
        AND (r.summary->'final'->>'tokens_per_second')::float8 > 0
    ) t WHERE n <= 20`;
  const byEngine: Record<string, { tps: number; parameters: number | null }[]> = {};
  for (const r of rows) byEngine[r.engine] = [...(byEngine[r.engine] ?? []), r];
  const result: Record<string, EngineThroughput> = {};
  for (const [engine, runs] of Object.entries(byEngine)) {
    const sized = runs.filter((r) => r.parameters !== null && r.parameters > 0);
    result[engine] = {
      tokensPerSecond: median(runs.map((r) => r.tps)),
      runs: runs.length,
      parameterTokensPerSecond: sized.length
        ? median(sized.map((r) => r.tps * (r.parameters as number)))
        : null,
      sizedRuns: sized.length,
    };
  }
  return result;
}
