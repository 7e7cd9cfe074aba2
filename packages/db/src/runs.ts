import type { Db } from "./client.ts";
import type { Prisma, RunStatus } from "./generated/prisma/client.ts";
import { newId } from "./ids.ts";

/**
 * The run lifecycle, owned by Postgres:
 *   queued → claimed → running → succeeded | failed | cancelled
 * A claim is a conditional update that bumps `attempt`; the pair (claimedById, attempt) is the
 * lease every later write presents. A worker whose lease was taken away (its heartbeat lapsed
 * and the run was re-queued) matches no row, so it cannot heartbeat, append events or finish.
 */
export interface RunLease {
  runId: string;
  workerId: string;
  attempt: number;
}

export const ACTIVE_RUN_STATUSES: RunStatus[] = ["claimed", "running"];
export const TERMINAL_RUN_STATUSES: RunStatus[] = ["succeeded", "failed", "cancelled"];

export async function createRun(
  db: Db,
  input: {
    workspaceId: string;
    name: string;
    engine: string;
    config: Prisma.InputJsonValue;
    modelId?: string | null;
    datasetVersionId?: string | null;
    launchedById?: string | null;
    /** the run waits until this one has succeeded (and fails if it does not) */
    dependsOnRunId?: string | null;
    /** its turn within its priority (packages/core fair-queue.ts) */
    queueRank?: number;
  },
) {
  return db.run.create({ data: { id: newId("run"), status: "queued", ...input } });
}

/** Exactly one caller wins; the loser gets null. Cancel-requested runs are never claimed. */
export async function claimRun(db: Db, runId: string, workerId: string): Promise<RunLease | null> {
  const rows = await db.$queryRaw<{ attempt: number }[]>`
    UPDATE "Run" SET status = 'claimed', "claimedById" = ${workerId}, attempt = attempt + 1,
      "heartbeatAt" = now(), "updatedAt" = now()
    WHERE id = ${runId} AND status = 'queued' AND "cancelRequestedAt" IS NULL
    RETURNING attempt`;
  const row = rows[0];
  return row ? { runId, workerId, attempt: row.attempt } : null;
}

export async function markRunRunning(db: Db, lease: RunLease): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "Run" SET status = 'running', "startedAt" = COALESCE("startedAt", now()), "heartbeatAt" = now(),
      "updatedAt" = now()
    WHERE id = ${lease.runId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}

/**
 * Renews the lease. `isLeaseHeld` false means the run was taken away (stop working on it);
 * `isCancelRequested` true means the user asked to cancel.
 */
export async function heartbeatRun(
  db: Db,
  lease: RunLease,
): Promise<{ isLeaseHeld: boolean; isCancelRequested: boolean }> {
  const rows = await db.$queryRaw<{ cancelRequestedAt: Date | null }[]>`
    UPDATE "Run" SET "heartbeatAt" = now()
    WHERE id = ${lease.runId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')
    RETURNING "cancelRequestedAt"`;
  const row = rows[0];
  return { isLeaseHeld: row !== undefined, isCancelRequested: row?.cancelRequestedAt != null };
}

/** The terminal update, fenced by the lease: a stale worker gets false and changes nothing. */
export async function finishRun(
  db: Db,
  lease: RunLease,
  outcome: { status: "succeeded" | "failed" | "cancelled"; error?: string; summary?: Prisma.InputJsonValue },
): Promise<boolean> {
  const summary = JSON.stringify(outcome.summary ?? {});
  const n = await db.$executeRaw`
    UPDATE "Run" SET status = ${outcome.status}::"RunStatus", "finishedAt" = now(), "updatedAt" = now(),
      error = ${outcome.error ?? null}, summary = summary || ${summary}::jsonb
    WHERE id = ${lease.runId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}

/**
 * Cancel: a queued run is cancelled at once; an active one gets `cancelRequestedAt`, which its
 * worker sees on its next heartbeat. Returns the status after the request, or null if not found.
 */
export async function requestCancelRun(
  db: Db,
  workspaceId: string,
  runId: string,
): Promise<RunStatus | null> {
  const queued = await db.run.updateMany({
    where: { id: runId, workspaceId, status: "queued" },
    data: { status: "cancelled", cancelRequestedAt: new Date(), finishedAt: new Date() },
  });
  if (queued.count === 1) return "cancelled";
  await db.run.updateMany({
    where: { id: runId, workspaceId, status: { in: ACTIVE_RUN_STATUSES }, cancelRequestedAt: null },
    data: { cancelRequestedAt: new Date() },
  });
  const run = await db.run.findFirst({ where: { id: runId, workspaceId }, select: { status: true } });
  return run?.status ?? null;
}

/**
 * Runs whose worker stopped heartbeating for `staleAfterMs`: re-queued (visible through
 * `interruptedAt` / `interruptions`), or cancelled if a cancel was pending. Returns the re-queued
 * ids so the caller enqueues them again; the old worker's lease no longer matches.
 */
export async function requeueStaleRuns(
  db: Db,
  staleAfterMs: number,
): Promise<{ id: string; workspaceId: string; engine: string }[]> {
  const cutoff = new Date(Date.now() - staleAfterMs);
  await db.$executeRaw`
    UPDATE "Run" SET status = 'cancelled', "finishedAt" = now(), "updatedAt" = now(), "claimedById" = NULL,
      error = 'worker lost while cancelling'
    WHERE status IN ('claimed', 'running') AND "heartbeatAt" < ${cutoff} AND "cancelRequestedAt" IS NOT NULL`;
  return db.$queryRaw<{ id: string; workspaceId: string; engine: string }[]>`
    UPDATE "Run" SET status = 'queued', "claimedById" = NULL, "interruptedAt" = now(),
      interruptions = interruptions + 1, "updatedAt" = now()
    WHERE status IN ('claimed', 'running') AND "heartbeatAt" < ${cutoff}
    RETURNING id, "workspaceId", engine`;
}

/** Fails a run that cannot start (its model or dataset version disappeared), fenced. */
export async function failRunBeforeStart(db: Db, lease: RunLease, error: string): Promise<boolean> {
  return finishRun(db, lease, { status: "failed", error });
}

export function getRun(db: Db, workspaceId: string, runId: string) {
  return db.run.findFirst({
    where: { id: runId, workspaceId },
    include: {
      claimedBy: { select: { id: true, host: true } },
      launchedBy: { select: { id: true, name: true } },
    },
  });
}

export function listRuns(db: Db, workspaceId: string, filter: { status?: RunStatus[]; take?: number } = {}) {
  return db.run.findMany({
    where: { workspaceId, ...(filter.status ? { status: { in: filter.status } } : {}) },
    orderBy: { createdAt: "desc" },
    take: filter.take ?? 100,
    include: {
      claimedBy: { select: { id: true, host: true } },
      launchedBy: { select: { id: true, name: true } },
    },
  });
}

/**
 * Hands a run back to the queue (a worker shutting down gracefully mid-run). Fenced; the run
 * resumes from its last checkpoint on whichever worker claims it next.
 */
export async function releaseRun(db: Db, lease: RunLease): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "Run" SET status = 'queued', "claimedById" = NULL, "interruptedAt" = now(),
      interruptions = interruptions + 1, "updatedAt" = now()
    WHERE id = ${lease.runId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}
