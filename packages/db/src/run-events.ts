import type { EngineEvent } from "@distillery/core";
import type { Db } from "./client.ts";
import type { RunLease } from "./runs.ts";

/**
 * Persists a batch of engine events for the lease holder, idempotently on (runId, seq): a replay
 * after a crash inserts nothing twice. Returns how many rows were new, or null when the lease is
 * no longer held (a stale worker's events are dropped).
 */
export async function appendRunEvents(
  db: Db,
  lease: RunLease,
  events: EngineEvent[],
): Promise<number | null> {
  if (events.length === 0) return 0;
  const rows = JSON.stringify(
    events.map((e) => ({
      seq: e.seq,
      type: e.type,
      step: "step" in e && e.step !== undefined ? e.step : null,
      data: e,
    })),
  );
  const maxSeq = Math.max(...events.map((e) => e.seq));
  return db.$transaction(async (tx) => {
    const held = await tx.$queryRaw<{ workspaceId: string }[]>`
      UPDATE "Run" SET "lastSeq" = GREATEST("lastSeq", ${maxSeq}), "heartbeatAt" = now()
      WHERE id = ${lease.runId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
        AND status IN ('claimed', 'running')
      RETURNING "workspaceId"`;
    const workspaceId = held[0]?.workspaceId;
    if (!workspaceId) return null;
    return tx.$executeRaw`
      INSERT INTO "RunEvent" ("workspaceId", "runId", seq, type, step, data)
      SELECT ${workspaceId}, ${lease.runId}, e.seq, e.type, e.step, e.data
      FROM jsonb_to_recordset(${rows}::jsonb) AS e(seq int, type text, step int, data jsonb)
      ON CONFLICT ("runId", seq) DO NOTHING`;
  });
}

/** Events after `afterSeq` in seq order (SSE replay from Last-Event-ID). */
export async function listRunEvents(
  db: Db,
  runId: string,
  options: { afterSeq?: number; types?: string[]; take?: number } = {},
): Promise<EngineEvent[]> {
  const rows = await db.runEvent.findMany({
    where: {
      runId,
      seq: { gt: options.afterSeq ?? -1 },
      ...(options.types ? { type: { in: options.types } } : {}),
    },
    orderBy: { seq: "asc" },
    take: options.take ?? 10_000,
    select: { data: true },
  });
  return rows.map((r) => r.data as unknown as EngineEvent);
}

/**
 * For each metric name, the highest step already stored. A run resumed from a checkpoint
 * re-emits the steps after it; the worker drops those values so the stored series has no
 * duplicate step (exact resume makes them equal to the first ones anyway).
 */
export async function getMetricHighWaterMarks(db: Db, runId: string): Promise<Map<string, number>> {
  const rows = await db.$queryRaw<{ name: string; step: number }[]>`
    SELECT k AS name, max(e.step) AS step
    FROM "RunEvent" e, jsonb_object_keys(e.data->'values') AS k
    WHERE e."runId" = ${runId} AND e.type = 'metric'
    GROUP BY k`;
  return new Map(rows.map((r) => [r.name, Number(r.step)]));
}
