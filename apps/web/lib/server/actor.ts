import "server-only";
import { ensureDefaultWorkspace } from "@distillery/db";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { getAuth } from "@/features/auth/server/auth.ts";
import { currentWorkspaceOf } from "@/features/auth/server/memberships.ts";
import { resolveApiToken } from "@/features/auth/server/tokens.ts";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import { crossSiteReason } from "@/lib/security/policy.ts";
import { AppError } from "./app-error.ts";
import { getContext } from "./context.ts";
import { getEnv } from "./env.ts";
import { type ResolvedActor, setActorResolver, setAuditRecorder, setRequestGuard } from "./with-route.ts";

let localActor: Promise<ResolvedActor> | undefined;

function localOwner(): Promise<ResolvedActor> {
  localActor ??= ensureDefaultWorkspace(getContext().db)
    .then((a) => ({ ...a, role: "owner" as const, via: "local" as const }))
    .catch((e) => {
      localActor = undefined;
      throw e;
    });
  return localActor;
}

/** The signed-in user behind a request: a Bearer API token, else the session cookie. */
export async function resolveRequestActor(req: Request): Promise<ResolvedActor | null> {
  const { db } = getContext();
  const authorization = req.headers.get("authorization");
  if (authorization) {
    const [kind, token] = authorization.split(/\s+/, 2);
    if (kind?.toLowerCase() !== "bearer" || !token)
      throw new AppError("unauthorized", "the Authorization header must be `Bearer <token>`");
    return resolveApiToken(db, token);
  }
  if (getEnv().DISTILLERY_AUTH === "local") return localOwner();
  const auth = await getAuth();
  const session = await auth.api.getSession({ headers: req.headers });
  if (!session) return null;
  const user = await db.user.findUnique({ where: { id: session.user.id } });
  if (!user) return null;
  const current = await currentWorkspaceOf(db, user);
  return {
    userId: user.id,
    workspaceId: current?.workspaceId ?? "",
    name: user.name,
    email: user.email,
    role: current?.role ?? "viewer",
    via: "session",
  };
}

setActorResolver(resolveRequestActor);

setRequestGuard((req) => {
  const env = getEnv();
  const policy = { allowedHosts: env.DISTILLERY_ALLOWED_HOSTS, publicUrl: env.DISTILLERY_PUBLIC_URL };
  const host = req.headers.get("host") ?? new URL(req.url).host;
  if (!isAllowedHost(host, policy))
    return new AppError(
      "forbidden",
      `this studio does not answer for host ${host}: add it to DISTILLERY_ALLOWED_HOSTS`,
    );
  const forged = crossSiteReason(req, policy);
  return forged ? new AppError("forbidden", forged) : null;
});

setAuditRecorder((req, actor, note) =>
  recordAudit(getContext().db, {
    workspaceId: actor.workspaceId || null,
    actorId: actor.userId,
    actorEmail: actor.email,
    ...note,
    data: { ...note.data, ...(actor.via === "token" ? { via: "token" } : {}) },
    req,
  }),
);
