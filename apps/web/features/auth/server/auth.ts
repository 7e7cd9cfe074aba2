import "server-only";
import { newId } from "@distillery/db";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";
import { recordAudit } from "./audit.ts";
import { sendMail } from "./mailer.ts";
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
        await deliverResetLink(env, user.email, url);
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

/**
 * A password-reset link: mailed through SMTP_URL when one is configured; otherwise (or when the
 * relay refuses it) printed in the server log, where the operator passes it on.
 */
export async function deliverResetLink(
  env: Pick<ReturnType<typeof getEnv>, "SMTP_URL" | "SMTP_FROM" | "DISTILLERY_PUBLIC_URL">,
  email: string,
  url: string,
): Promise<"mailed" | "logged"> {
  if (env.SMTP_URL) {
    const host = env.DISTILLERY_PUBLIC_URL ? new URL(env.DISTILLERY_PUBLIC_URL).hostname : "localhost";
    try {
      await sendMail(
        { url: env.SMTP_URL, from: env.SMTP_FROM ?? `Distillery <distillery@${host}>` },
        {
          to: email,
          subject: "Reset your Distillery password",
          text: `Someone (hopefully you) asked to reset the password of ${email}.\n\nOpen this link within an hour to choose a new one (it works once):\n${url}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
        },
      );
      console.log(`[auth] password reset for ${email}: link mailed`);
      return "mailed";
    } catch (e) {
      console.error(`[auth] could not mail the password reset for ${email}: ${(e as Error).message}`);
    }
  }
  // no mail server (or it refused): the one-time link goes to the server log for the operator
  console.log(`[auth] password reset for ${email}: ${url}  (valid 1 hour, single use)`);
  return "logged";
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
