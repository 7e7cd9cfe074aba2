import { z } from "zod";
import { ZRole } from "@/features/auth/schemas.ts";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { changeMember } from "@/features/auth/server/memberships.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
const ZParams = z.object({ userId: z.string().min(1) });

/** Changes a member's role (admins; owners for anything touching an owner). */
export const PATCH = withRoute({
  permission: "admin",
  schemas: { params: ZParams, body: z.object({ role: ZRole }) },
  handler: async ({ req, actor, params, body }) => {
    const { db } = getContext();
    await changeMember(db, {
      workspaceId: actor.workspaceId,
      userId: params.userId,
      role: body.role,
      byRole: actor.role,
    });
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "member.role",
      targetType: "user",
      targetId: params.userId,
      data: { role: body.role },
      req,
    });
    return { userId: params.userId, role: body.role };
  },
});

/** Removes a member from the workspace. */
export const DELETE = withRoute({
  permission: "admin",
  schemas: { params: ZParams },
  handler: async ({ req, actor, params }) => {
    const { db } = getContext();
    await changeMember(db, {
      workspaceId: actor.workspaceId,
      userId: params.userId,
      role: null,
      byRole: actor.role,
    });
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "member.remove",
      targetType: "user",
      targetId: params.userId,
      req,
    });
    return new Response(null, { status: 204 });
  },
});
