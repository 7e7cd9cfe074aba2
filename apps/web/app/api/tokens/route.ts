import { ZCreateToken } from "@/features/auth/schemas.ts";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { createApiToken, toTokenView } from "@/features/auth/server/tokens.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";
import { hasRole } from "@/lib/server/with-route.ts";

export const dynamic = "force-dynamic";

/** My tokens in this workspace; admins see everyone's (to revoke them). */
export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => {
    const isAdmin = hasRole(actor, "admin") && actor.via !== "token";
    const rows = await getContext().db.apiToken.findMany({
      where: { workspaceId: actor.workspaceId, ...(isAdmin ? {} : { userId: actor.userId }) },
      include: { user: { select: { email: true } } },
      orderBy: { createdAt: "desc" },
    });
    return { tokens: rows.map((r) => ({ ...toTokenView(r), userId: r.userId, userEmail: r.user.email })) };
  },
});

/** A new token, shown once. Its scope may not exceed what the user's role allows. */
export const POST = withRoute({
  permission: "read",
  schemas: { body: ZCreateToken },
  handler: async ({ req, actor, body }) => {
    if (actor.via === "token") throw new AppError("forbidden", "tokens are created from a signed-in browser");
    const needed = { read: "viewer", write: "member", admin: "admin" } as const;
    if (!hasRole(actor, needed[body.scope]))
      throw new AppError("forbidden", `your role (${actor.role}) cannot hold a ${body.scope} token`, [
        { field: "body.scope", message: `above your role (${actor.role})` },
      ]);
    const { db } = getContext();
    const expiresAt =
      body.expiresInDays === null ? null : new Date(Date.now() + body.expiresInDays * 86_400_000);
    const created = await createApiToken(db, {
      userId: actor.userId,
      workspaceId: actor.workspaceId,
      name: body.name,
      scope: body.scope,
      expiresAt,
    });
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "token.create",
      targetType: "token",
      targetId: created.id,
      data: { scope: body.scope, name: body.name },
      req,
    });
    return Response.json(created, { status: 201, headers: { "cache-control": "no-store" } });
  },
});
