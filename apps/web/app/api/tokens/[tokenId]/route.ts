import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";
import { canManage } from "@/lib/server/with-route.ts";

export const dynamic = "force-dynamic";

/** Revokes a token: its owner may, and admins may revoke anyone's in the workspace. */
export const DELETE = withRoute({
  permission: "read",
  schemas: { params: z.object({ tokenId: z.string().min(1) }) },
  handler: async ({ req, actor, params }) => {
    const { db } = getContext();
    const row = await db.apiToken.findFirst({
      where: { id: params.tokenId, workspaceId: actor.workspaceId },
    });
    const isOwn = row?.userId === actor.userId;
    if (!row || (!isOwn && !canManage(actor, row.userId)))
      throw new AppError("not_found", `token ${params.tokenId} not found`);
    if (!row.revokedAt) await db.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "token.revoke",
      targetType: "token",
      targetId: row.id,
      req,
    });
    return new Response(null, { status: 204 });
  },
});
