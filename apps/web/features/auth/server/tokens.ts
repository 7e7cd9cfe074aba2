import { createHash, randomBytes } from "node:crypto";
import { type Db, newId } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import type { ResolvedActor, TokenScope } from "@/lib/server/with-route.ts";
import { getRole } from "./memberships.ts";
import { getDeploymentId } from "./settings.ts";

export const TOKEN_SCOPES = ["read", "write", "admin"] as const;
const TOKEN_RE = /^dst_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Makes a token for the user in the workspace; the plain token is returned once and never stored. */
export async function createApiToken(
  db: Db,
  opts: { userId: string; workspaceId: string; name: string; scope: TokenScope; expiresAt: Date | null },
) {
  const deployment = await getDeploymentId(db);
  const token = `dst_${deployment}_${randomBytes(32).toString("base64url")}`;
  const row = await db.apiToken.create({
    data: {
      id: newId("tok"),
      userId: opts.userId,
      workspaceId: opts.workspaceId,
      name: opts.name,
      scope: opts.scope,
      tokenHash: hashToken(token),
      prefix: token.slice(0, 16),
      expiresAt: opts.expiresAt,
    },
  });
  return { token, ...toTokenView(row) };
}

export function toTokenView(row: {
  id: string;
  name: string;
  scope: string;
  prefix: string;
  workspaceId: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}) {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    workspaceId: row.workspaceId,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * The actor a Bearer token stands for: the user's current role in the token's workspace, capped by
 * the token's scope. Unknown, revoked, expired and foreign tokens are refused with the reason.
 */
export async function resolveApiToken(db: Db, token: string): Promise<ResolvedActor> {
  const m = TOKEN_RE.exec(token);
  if (!m) throw new AppError("unauthorized", "the bearer token is not a Distillery API token (dst_…)");
  const deployment = await getDeploymentId(db);
  if (m[1] !== deployment)
    throw new AppError("unauthorized", "this API token was issued by another Distillery deployment");
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: true },
  });
  if (!row) throw new AppError("unauthorized", "unknown API token");
  if (row.revokedAt) throw new AppError("unauthorized", "this API token was revoked");
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now())
    throw new AppError("unauthorized", "this API token has expired");
  const role = await getRole(db, row.userId, row.workspaceId);
  if (!role) throw new AppError("unauthorized", "the token's user is no longer a member of its workspace");
  // last use, at most once a minute per token
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000)
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  return {
    userId: row.userId,
    workspaceId: row.workspaceId,
    name: row.user.name,
    email: row.user.email,
    role,
    via: "token",
    tokenScope: row.scope as TokenScope,
  };
}
