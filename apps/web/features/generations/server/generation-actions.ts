import "server-only";
import { QUEUES } from "@distillery/jobs";
import { requestGenerationAction, retryFailedGenerationRows } from "@distillery/teacher/store";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { type Actor, canManage } from "@/lib/server/with-route.ts";

/** Cancel, pause or resume (a member their own jobs; admins anyone's). */
export async function actOnGeneration(actor: Actor, jobId: string, action: "cancel" | "pause" | "resume") {
  const { db, producer } = getContext();
  const job = await db.generationJob.findFirst({
    where: { id: jobId, workspaceId: actor.workspaceId },
    select: { createdById: true },
  });
  if (!job) throw new AppError("not_found", "no such generation job");
  if (!canManage(actor, job.createdById))
    throw new AppError("forbidden", "only its author or an admin can change this job");
  const result = await requestGenerationAction(db, actor.workspaceId, jobId, action);
  if (!result) throw new AppError("not_found", "no such generation job");
  if (result.shouldEnqueue) {
    try {
      await producer.enqueue(
        QUEUES.generations,
        { generationJobId: jobId, workspaceId: actor.workspaceId },
        { jobId: `${jobId}-resume-${Date.now()}` },
      );
    } catch {
      // not on the queue: back to paused, so Resume can be pressed again
      await db.generationJob.updateMany({
        where: { id: jobId, status: "queued" },
        data: { status: "paused" },
      });
      throw new AppError("unavailable", "the queue is unreachable: the job stays paused; try again");
    }
  }
  return { status: result.status };
}

/**
 * "Retry failed rows": a finished or paused job asks again for the rows that failed, and only
 * those (its other rows are kept); it is queued and enqueued. 409 while it runs or when no row
 * failed.
 */
export async function retryFailedRows(actor: Actor, jobId: string) {
  const { db, producer } = getContext();
  const job = await db.generationJob.findFirst({
    where: { id: jobId, workspaceId: actor.workspaceId },
    select: { createdById: true },
  });
  if (!job) throw new AppError("not_found", "no such generation job");
  if (!canManage(actor, job.createdById))
    throw new AppError("forbidden", "only its author or an admin can change this job");
  const outcome = await retryFailedGenerationRows(db, actor.workspaceId, jobId);
  if (outcome.kind === "missing") throw new AppError("not_found", "no such generation job");
  if (outcome.kind === "refused") throw new AppError("conflict", `cannot retry: ${outcome.reason}`);
  try {
    await producer.enqueue(
      QUEUES.generations,
      { generationJobId: jobId, workspaceId: actor.workspaceId },
      { jobId: `${jobId}-retry-${Date.now()}` },
    );
  } catch {
    // not on the queue: paused, so Resume (or the worker's sweep once Redis is back) picks it up
    await db.generationJob.updateMany({
      where: { id: jobId, status: "queued" },
      data: { status: "paused" },
    });
    throw new AppError("unavailable", "the queue is unreachable: the job is paused; resume it later");
  }
  return { status: "queued", retried: outcome.retried };
}
