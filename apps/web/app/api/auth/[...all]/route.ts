import { getAuth } from "@/features/auth/server/auth.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

// better-auth's own endpoints (sign-in, sign-out, session, password reset). Accounts are made by
// the first-start page and by invitations only, so its open sign-up endpoint is closed here.
async function handle(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path.startsWith("/api/auth/sign-up"))
    throw new AppError("forbidden", "accounts are created by invitation: ask an admin for a link");
  return (await getAuth()).handler(req);
}

export const GET = withRoute({ permission: "public", handler: async ({ req }) => handle(req) });
export const POST = withRoute({ permission: "public", handler: async ({ req }) => handle(req) });
