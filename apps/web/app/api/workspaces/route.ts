import { newId } from "@distillery/db";
import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { addMember } from "@/features/auth/server/memberships.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** A new workspace; its creator is its owner and works in it from now on. */
export const POST = withRoute({
  permission: "account",
  schemas: { body: z.object({ name: z.string().trim().min(1, "name is required").max(100) }) },
  handler: async ({ req, actor, body }) => {
    if (actor.via === "token") throw new AppError("forbidden", "create workspaces from a signed-in browser");
    const { db } = getContext();
    const id = newId("ws");
    await db.workspace.create({ data: { id, name: body.name, slug: id } });
    await addMember(db, id, actor.userId, "owner");
    await db.user.update({ where: { id: actor.userId }, data: { workspaceId: id } });
    await recordAudit(db, {
      workspaceId: id,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "workspace.create",
      targetType: "workspace",
      targetId: id,
      req,
    });
    return Response.json({ id, name: body.name }, { status: 201 });
  },
});
