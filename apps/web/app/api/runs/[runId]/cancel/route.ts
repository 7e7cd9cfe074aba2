import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { assertCanManage } from "@/features/auth/server/ownership.ts";
import { cancelRun } from "@/features/runs/server/cancel-run.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Members cancel their own runs; admins anyone's. */
export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ runId: z.string().min(1) }) },
  handler: async ({ req, actor, params }) => {
    const { db } = getContext();
    const run = await db.run.findFirst({
      where: { id: params.runId, workspaceId: actor.workspaceId },
      select: { launchedById: true },
    });
    if (!run) throw new AppError("not_found", `run ${params.runId} not found`);
    assertCanManage(actor, run.launchedById, `run ${params.runId}`);
    const result = await cancelRun(actor.workspaceId, params.runId);
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "run.cancel",
      targetType: "run",
      targetId: params.runId,
      req,
    });
    return result;
  },
});
