import { z } from "zod";
import { ZAcceptInvitation } from "@/features/auth/schemas.ts";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { getAuth } from "@/features/auth/server/auth.ts";
import { acceptInvitation, findUsableInvitation } from "@/features/auth/server/invitations.ts";
import { jsonWithCookies } from "@/features/auth/server/session-response.ts";
import { resolveRequestActor } from "@/lib/server/actor.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
const ZParams = z.object({ secret: z.string().min(16).max(100) });

/** What an invitation link offers (the workspace and role), or why it cannot be used. */
export const GET = withRoute({
  permission: "public",
  schemas: { params: ZParams },
  handler: async ({ params }) => {
    const inv = await findUsableInvitation(getContext().db, params.secret);
    return { workspaceName: inv.workspace.name, role: inv.role, expiresAt: inv.expiresAt.toISOString() };
  },
});

/**
 * Accepts the invitation: a signed-in user joins with its role; a visitor creates an account
 * (body.account) and is signed in. Public because the visitor has no account yet.
 */
export const POST = withRoute({
  permission: "public",
  schemas: { params: ZParams, body: ZAcceptInvitation },
  handler: async ({ req, params, body }) => {
    const { db } = getContext();
    await findUsableInvitation(db, params.secret);
    const signedIn = await resolveRequestActor(req);
    if (signedIn?.via === "token") throw new AppError("forbidden", "accept an invitation from a browser");
    if (signedIn) {
      const joined = await acceptInvitation(db, params.secret, signedIn.userId);
      await recordAudit(db, {
        workspaceId: joined.workspaceId,
        actorId: signedIn.userId,
        actorEmail: signedIn.email,
        action: "invitation.accept",
        data: { role: joined.role },
        req,
      });
      return joined;
    }
    if (!body?.account)
      throw new AppError("validation_failed", "create an account to join", [
        { field: "body.account", message: "required when not signed in" },
      ]);
    const existing = await db.user.findUnique({ where: { email: body.account.email } });
    if (existing)
      throw new AppError(
        "conflict",
        "an account with this email exists: sign in first, then open the link again",
      );
    const auth = await getAuth();
    const { headers, response } = await auth.api.signUpEmail({
      body: body.account,
      headers: req.headers,
      returnHeaders: true,
    });
    const joined = await acceptInvitation(db, params.secret, response.user.id);
    await recordAudit(db, {
      workspaceId: joined.workspaceId,
      actorId: response.user.id,
      actorEmail: body.account.email,
      action: "invitation.accept",
      data: { role: joined.role, newAccount: true },
      req,
    });
    return jsonWithCookies(joined, headers, 201);
  },
});
