import type { Db } from "./client.ts";
import type { Prisma } from "./generated/prisma/client.ts";
import { newId } from "./ids.ts";

export async function createJob(
  db: Db,
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

export function getJob(db: Db, workspaceId: string, jobId: string) {
  return db.job.findFirst({ where: { id: jobId, workspaceId } });
}

export function listJobs(db: Db, workspaceId: string, take = 20) {
  return db.job.findMany({ where: { workspaceId }, orderBy: { createdAt: "desc" }, take });
}
