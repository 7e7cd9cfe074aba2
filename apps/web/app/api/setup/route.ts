import { randomBytes } from "node:crypto";
import { ZSetupBody } from "@/features/auth/schemas.ts";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { getAuth } from "@/features/auth/server/auth.ts";
import { jsonWithCookies } from "@/features/auth/server/session-response.ts";
import { claimSetup, makeOwnerOfDefaultWorkspace, needsSetup } from "@/features/auth/server/setup.ts";
import { isLoopbackHost } from "@/lib/security/hosts.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** First start: does the studio still need its owner, and may this visitor take the one-click local path? */
export const GET = withRoute({
  permission: "public",
  handler: async ({ req }) => ({
    needsSetup: await needsSetup(getContext().db),
    canStartLocally: isLoopbackHost(req.headers.get("host")),
  }),
});

/**
 * The first visitor creates the owner, who takes over the default (demo) workspace. `{ local: true }`
 * (offered on loopback only) makes a local owner with a random password in one click; the reset
 * link in the server log recovers it.
 */
export const POST = withRoute({
  permission: "public",
  schemas: { body: ZSetupBody },
  handler: async ({ req, body }) => {
    const { db } = getContext();
    if ("local" in body && !isLoopbackHost(req.headers.get("host")))
      throw new AppError("forbidden", "the one-click local owner is offered on localhost only");
    const account =
      "local" in body
        ? {
            name: "Local owner",
            email: "owner@distillery.local",
            password: randomBytes(24).toString("base64url"),
          }
        : body;
    const claim = await claimSetup(db);
    try {
      const auth = await getAuth();
      const { headers, response } = await auth.api.signUpEmail({
        body: account,
        headers: req.headers,
        returnHeaders: true,
      });
      const workspaceId = await makeOwnerOfDefaultWorkspace(db, response.user.id);
      await recordAudit(db, {
        workspaceId,
        actorId: response.user.id,
        actorEmail: account.email,
        action: "workspace.owner_created",
        req,
      });
      console.log(`[auth] owner account created: ${account.email}`);
      return jsonWithCookies({ userId: response.user.id, email: account.email, workspaceId }, headers, 201);
    } catch (e) {
      await claim.release();
      throw e;
    }
  },
});
