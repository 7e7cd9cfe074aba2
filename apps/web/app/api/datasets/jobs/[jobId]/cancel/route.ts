import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { assertCanManage } from "@/features/auth/server/ownership.ts";
import { cancelDatasetJob } from "@/features/datasets/server/cancel-dataset-job.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Members cancel their own dataset jobs; admins anyone's. */
export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ req, actor, params }) => {
    const { db } = getContext();
    const job = await db.job.findFirst({
      where: { id: params.jobId, workspaceId: actor.workspaceId },
      select: { createdById: true },
    });
    if (!job) throw new AppError("not_found", `dataset job ${params.jobId} does not exist`);
    assertCanManage(actor, job.createdById, `dataset job ${params.jobId}`);
    const result = await cancelDatasetJob(actor.workspaceId, params.jobId);
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "dataset_job.cancel",
      targetType: "job",
      targetId: params.jobId,
      req,
    });
    return result;
  },
});
