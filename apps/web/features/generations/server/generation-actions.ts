import "server-only";
import { QUEUES } from "@distillery/jobs";
import { requestGenerationAction } from "@distillery/teacher/store";
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
