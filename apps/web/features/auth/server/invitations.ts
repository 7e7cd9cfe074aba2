import { randomBytes } from "node:crypto";
import { type Db, newId } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import type { Role } from "@/lib/server/with-route.ts";
import { addMember, isRole } from "./memberships.ts";
import { hashToken } from "./tokens.ts";

/** An invitation link's secret; the link is /invite/<secret>, only its hash is stored. */
export async function createInvitation(
  db: Db,
  opts: { workspaceId: string; role: Role; createdById: string; expiresInHours: number },
) {
  const secret = randomBytes(24).toString("base64url");
  const row = await db.invitation.create({
    data: {
      id: newId("inv"),
      workspaceId: opts.workspaceId,
      role: opts.role,
      tokenHash: hashToken(secret),
      createdById: opts.createdById || null,
      expiresAt: new Date(Date.now() + opts.expiresInHours * 3600_000),
    },
  });
  return { id: row.id, secret, role: row.role, expiresAt: row.expiresAt.toISOString() };
}

/** The invitation behind a link, if it can still be used; otherwise a clear reason. */
export async function findUsableInvitation(db: Db, secret: string) {
  const row = await db.invitation.findUnique({
    where: { tokenHash: hashToken(secret) },
    include: { workspace: { select: { id: true, name: true } } },
  });
  if (!row) throw new AppError("not_found", "this invitation link is not valid");
  if (row.revokedAt) throw new AppError("conflict", "this invitation was withdrawn");
  if (row.acceptedAt) throw new AppError("conflict", "this invitation was already used");
  if (row.expiresAt.getTime() <= Date.now())
    throw new AppError("conflict", "this invitation has expired: ask for a new link");
  if (!isRole(row.role)) throw new AppError("conflict", "this invitation names an unknown role");
  return { ...row, role: row.role as Role };
}

/** Uses the invitation once (a conditional update) and makes the user a member with its role. */
export async function acceptInvitation(db: Db, secret: string, userId: string) {
  const inv = await findUsableInvitation(db, secret);
  const claimed = await db.invitation.updateMany({
    where: { id: inv.id, acceptedAt: null, revokedAt: null },
    data: { acceptedAt: new Date(), acceptedById: userId },
  });
  if (claimed.count !== 1) throw new AppError("conflict", "this invitation was already used");
  await addMember(db, inv.workspaceId, userId, inv.role);
  await db.user.update({ where: { id: userId }, data: { workspaceId: inv.workspaceId } });
  return { workspaceId: inv.workspaceId, workspaceName: inv.workspace.name, role: inv.role };
}
