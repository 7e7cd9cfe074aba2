import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Deletes the workspace the owner works in, with everything in it. The id must be the current one. */
export const DELETE = withRoute({
  permission: "owner",
  schemas: { params: z.object({ workspaceId: z.string().min(1) }) },
  handler: async ({ req, actor, params }) => {
    if (params.workspaceId !== actor.workspaceId)
      throw new AppError("not_found", `workspace ${params.workspaceId} not found`);
    const { db } = getContext();
    await db.workspace.delete({ where: { id: params.workspaceId } });
    await recordAudit(db, {
      workspaceId: null,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "workspace.delete",
      targetType: "workspace",
      targetId: params.workspaceId,
      req,
    });
    return new Response(null, { status: 204 });
  },
});
