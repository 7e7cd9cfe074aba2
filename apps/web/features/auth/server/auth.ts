import "server-only";
import { newId } from "@distillery/db";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";
import { recordAudit } from "./audit.ts";
import { getAuthSecret } from "./settings.ts";

const ID_PREFIX: Record<string, string> = {
  user: "usr",
  session: "ses",
  account: "acc",
  verification: "ver",
};

function createAuth(secret: string) {
  const env = getEnv();
  const { db } = getContext();
  return betterAuth({
    appName: "Distillery",
    secret,
    baseURL: env.DISTILLERY_PUBLIC_URL,
    basePath: "/api/auth",
    database: prismaAdapter(db, { provider: "postgresql" }),
    // the origin of the request itself, when its host is one the studio answers (see hosts.ts)
    trustedOrigins: async (request) => {
      const origins = env.DISTILLERY_PUBLIC_URL ? [new URL(env.DISTILLERY_PUBLIC_URL).origin] : [];
      const host = request?.headers.get("host");
      if (
        request &&
        host &&
        isAllowedHost(host, {
          allowedHosts: env.DISTILLERY_ALLOWED_HOSTS,
          publicUrl: env.DISTILLERY_PUBLIC_URL,
        })
      )
        origins.push(`${new URL(request.url).protocol}//${host}`);
      return origins;
    },
    emailAndPassword: {
      enabled: true,
      // accounts are made by the first-start page and by invitations, never by open sign-up
      disableSignUp: false,
      minPasswordLength: 8,
      resetPasswordTokenExpiresIn: 60 * 60,
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: async ({ user, url }) => {
        // no mail server configured: the one-time link goes to the server log for the operator
        console.log(`[auth] password reset for ${user.email}: ${url}  (valid 1 hour, single use)`);
      },
    },
    session: { expiresIn: 60 * 60 * 24 * 14, updateAge: 60 * 60 * 24 },
    rateLimit: {
      enabled: true,
      storage: "memory",
      window: 60,
      max: 200,
      customRules: {
        "/sign-in/email": { window: 60, max: 10 },
        "/request-password-reset": { window: 60, max: 5 },
        "/sign-up/email": { window: 60, max: 10 },
      },
    },
    advanced: {
      cookiePrefix: "distillery",
      defaultCookieAttributes: { sameSite: "lax", httpOnly: true },
      database: { generateId: ({ model }) => newId(ID_PREFIX[model] ?? model.slice(0, 3)) },
    },
    databaseHooks: {
      session: {
        create: {
          after: async (session) => {
            const user = await db.user.findUnique({ where: { id: session.userId } });
            await recordAudit(db, {
              workspaceId: user?.workspaceId,
              actorId: session.userId,
              actorEmail: user?.email,
              action: "auth.sign_in",
              data: { ip: session.ipAddress ?? null },
            });
          },
        },
      },
    },
    telemetry: { enabled: false },
  });
}

export type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { distilleryAuth?: Promise<Auth> };

/** better-auth, made once per process (its secret may come from the database). */
export function getAuth(): Promise<Auth> {
  globalForAuth.distilleryAuth ??= (async () => {
    const env = getEnv();
    const secret = env.BETTER_AUTH_SECRET ?? (await getAuthSecret(getContext().db));
    return createAuth(secret);
  })().catch((e) => {
    globalForAuth.distilleryAuth = undefined;
    throw e;
  });
  return globalForAuth.distilleryAuth;
}
