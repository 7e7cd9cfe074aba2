import { z } from "zod";
import { getRole } from "@/features/auth/server/memberships.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Switches the workspace the signed-in user works in (a member of it only). */
export const PUT = withRoute({
  permission: "account",
  schemas: { body: z.object({ workspaceId: z.string().min(1) }) },
  handler: async ({ actor, body }) => {
    if (actor.via === "token") throw new AppError("forbidden", "a token is bound to its workspace");
    const { db } = getContext();
    const role = await getRole(db, actor.userId, body.workspaceId);
    if (!role) throw new AppError("not_found", `workspace ${body.workspaceId} not found`);
    await db.user.update({ where: { id: actor.userId }, data: { workspaceId: body.workspaceId } });
    return { workspaceId: body.workspaceId, role };
  },
});
