import type { Db } from "./client.ts";
import type { Prisma } from "./generated/prisma/client.ts";
import { newId } from "./ids.ts";

export async function createJob(
  db: Db | Prisma.TransactionClient,
  input: { workspaceId: string; kind: string; input: Prisma.InputJsonValue; createdById?: string },
) {
  return db.job.create({ data: { id: newId("job"), status: "queued", ...input } });
}

/** Conditional: only a queued job becomes active, so a redelivered job is not run twice. */
export async function startJob(db: Db, jobId: string, workerId: string): Promise<boolean> {
  const { count } = await db.job.updateMany({
    where: { id: jobId, status: "queued" },
    data: { status: "active", workerId },
  });
  return count === 1;
}

export async function finishJob(
  db: Db,
  jobId: string,
  workerId: string,
  result: { output: Prisma.InputJsonValue } | { error: string },
): Promise<boolean> {
  const { count } = await db.job.updateMany({
    where: { id: jobId, workerId, status: "active" },
    data:
      "output" in result
        ? { status: "completed", output: result.output, finishedAt: new Date() }
        : { status: "failed", error: result.error, finishedAt: new Date() },
  });
  return count === 1;
}

/**
 * Cancel, as runs do: a queued job is cancelled at once (its delivery then finds it no longer
 * queued and skips it); an active one gets `cancelRequestedAt`, which its worker checks between
 * batches before ending it as cancelled. Returns the job's status after the request (an active
 * job stays active until its worker stops), or null when no job of `kinds` matches.
 */
export async function requestCancelJob(
  db: Db,
  input: { workspaceId: string; jobId: string; kinds: string[]; message: string },
): Promise<{ status: string; isCancelRequested: boolean } | null> {
  const where = { id: input.jobId, workspaceId: input.workspaceId, kind: { in: input.kinds } };
  const now = new Date();
  await db.job.updateMany({
    where: { ...where, status: "queued" },
    data: { status: "cancelled", cancelRequestedAt: now, error: input.message, finishedAt: now },
  });
  await db.job.updateMany({
    where: { ...where, status: "active", cancelRequestedAt: null },
    data: { cancelRequestedAt: now },
  });
  const job = await db.job.findFirst({ where, select: { status: true, cancelRequestedAt: true } });
  return job ? { status: job.status, isCancelRequested: job.cancelRequestedAt !== null } : null;
}

export function getJob(db: Db, workspaceId: string, jobId: string) {
  return db.job.findFirst({ where: { id: jobId, workspaceId } });
}

export function listJobs(db: Db, workspaceId: string, take = 20) {
  return db.job.findMany({ where: { workspaceId }, orderBy: { createdAt: "desc" }, take });
}
