import "server-only";
import { requestCancelJob } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { DATASET_JOB_KINDS } from "./dataset-views.ts";

/**
 * POST /api/datasets/jobs/[jobId]/cancel. A queued job is cancelled at once; an active one is
 * asked to stop (its worker checks between batches, removes what it wrote, and ends the job as
 * cancelled). A finished job cannot be cancelled (409); cancelling twice is harmless.
 */
export async function cancelDatasetJob(workspaceId: string, jobId: string) {
  const job = await requestCancelJob(getContext().db, {
    workspaceId,
    jobId,
    kinds: DATASET_JOB_KINDS,
    message: "Cancelled before it started; nothing was written.",
  });
  if (!job) throw new AppError("not_found", `dataset job ${jobId} does not exist`);
  if (job.status === "completed" || job.status === "failed")
    throw new AppError("conflict", `dataset job ${jobId} already ${job.status}`);
  return { jobId, status: job.status, isCancelRequested: job.isCancelRequested };
}
