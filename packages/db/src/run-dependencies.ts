import type { Db } from "./client.ts";

/** Queued runs waiting on `runId`, to enqueue once it has succeeded. */
export function listDependentRuns(db: Db, runId: string) {
  return db.run.findMany({
    where: { dependsOnRunId: runId, status: "queued" },
    select: { id: true, workspaceId: true, engine: true },
  });
}

/**
 * When a run fails or is cancelled, everything queued downstream of it fails too, with the
 * reason. Walks the chain (a pipeline can have several stages). Returns the failed ids.
 */
export async function failDependentRuns(db: Db, runId: string, reason: string): Promise<string[]> {
  const failed: string[] = [];
  let frontier = [runId];
  while (frontier.length > 0) {
    const next = await db.run.findMany({
      where: { dependsOnRunId: { in: frontier }, status: "queued" },
      select: { id: true },
    });
    const ids = next.map((r) => r.id);
    if (ids.length === 0) break;
    await db.run.updateMany({
      where: { id: { in: ids }, status: "queued" },
      data: { status: "failed", error: reason, finishedAt: new Date() },
    });
    failed.push(...ids);
    frontier = ids;
  }
  return failed;
}
