import { ZCreateInvitation } from "@/features/auth/schemas.ts";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { createInvitation } from "@/features/auth/server/invitations.ts";
import { getContext, getEnv, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Open invitations of the workspace (their links are shown once, at creation). */
export const GET = withRoute({
  permission: "admin",
  handler: async ({ actor }) => {
    const rows = await getContext().db.invitation.findMany({
      where: { workspaceId: actor.workspaceId },
      orderBy: { createdAt: "desc" },
      take: 100,
    });
    return {
      invitations: rows.map((r) => ({
        id: r.id,
        role: r.role,
        expiresAt: r.expiresAt.toISOString(),
        acceptedAt: r.acceptedAt?.toISOString() ?? null,
        revokedAt: r.revokedAt?.toISOString() ?? null,
        createdAt: r.createdAt.toISOString(),
      })),
    };
  },
});

/** A single-use invitation link with a role (not owner) and an expiry. */
export const POST = withRoute({
  permission: "admin",
  schemas: { body: ZCreateInvitation },
  handler: async ({ req, actor, body }) => {
    const { db } = getContext();
    const inv = await createInvitation(db, {
      workspaceId: actor.workspaceId,
      role: body.role,
      createdById: actor.userId,
      expiresInHours: body.expiresInHours,
    });
    const base = getEnv().DISTILLERY_PUBLIC_URL ?? new URL(req.url).origin;
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "invitation.create",
      targetType: "invitation",
      targetId: inv.id,
      data: { role: inv.role },
      req,
    });
    return Response.json(
      {
        id: inv.id,
        role: inv.role,
        expiresAt: inv.expiresAt,
        url: new URL(`/invite/${inv.secret}`, base).toString(),
      },
      { status: 201, headers: { "cache-control": "no-store" } },
    );
  },
});
