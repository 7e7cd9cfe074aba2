import "server-only";
import { QUEUES } from "@distillery/jobs";
import { requestGenerationAction, retryFailedGenerationRows } from "@distillery/teacher/store";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { type Actor, canManage } from "@/lib/server/with-route.ts";

/** The job in the actor's workspace, which the actor may change (a member their own, admins any). */
async function findManagedJob(actor: Actor, jobId: string) {
  const job = await getContext().db.generationJob.findFirst({
    where: { id: jobId, workspaceId: actor.workspaceId },
    select: { createdById: true },
  });
  if (!job) throw new AppError("not_found", "no such generation job");
  if (!canManage(actor, job.createdById))
    throw new AppError("forbidden", "only its author or an admin can change this job");
}

/** Puts a queued job on the queue; when Redis is unreachable it goes back to paused (Resume, or the sweep). */
async function enqueueOrPause(actor: Actor, jobId: string, reason: "resume" | "retry", unavailable: string) {
  const { db, producer } = getContext();
  try {
    await producer.enqueue(
      QUEUES.generations,
      { generationJobId: jobId, workspaceId: actor.workspaceId },
      { jobId: `${jobId}-${reason}-${Date.now()}` },
    );
  } catch {
    await db.generationJob.updateMany({ where: { id: jobId, status: "queued" }, data: { status: "paused" } });
    throw new AppError("unavailable", unavailable);
  }
}

/** Cancel, pause or resume (a member their own jobs; admins anyone's). */
export async function actOnGeneration(actor: Actor, jobId: string, action: "cancel" | "pause" | "resume") {
  await findManagedJob(actor, jobId);
  const result = await requestGenerationAction(getContext().db, actor.workspaceId, jobId, action);
  if (!result) throw new AppError("not_found", "no such generation job");
  if (result.shouldEnqueue)
    await enqueueOrPause(actor, jobId, "resume", "the queue is unreachable: the job stays paused; try again");
  return { status: result.status };
}

/**
 * "Retry failed rows": a finished or paused job asks again for the rows that failed, and only
 * those (its other rows are kept); it is queued and enqueued. 409 while it runs or when no row
 * failed.
 */
export async function retryFailedRows(actor: Actor, jobId: string) {
  await findManagedJob(actor, jobId);
  const outcome = await retryFailedGenerationRows(getContext().db, actor.workspaceId, jobId);
  if (outcome.kind === "missing") throw new AppError("not_found", "no such generation job");
  if (outcome.kind === "refused") throw new AppError("conflict", `cannot retry: ${outcome.reason}`);
  await enqueueOrPause(actor, jobId, "retry", "the queue is unreachable: the job is paused; resume it later");
  return { status: "queued", retried: outcome.retried };
}
