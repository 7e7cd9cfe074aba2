import { type Db, newId } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import { ROLES, type Role } from "@/lib/server/with-route.ts";

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export async function getRole(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const m = await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
  return m && isRole(m.role) ? m.role : null;
}

/** The workspace a signed-in user works in: their current one if still a member, else their first. */
export async function currentWorkspaceOf(
  db: Db,
  user: { id: string; workspaceId: string | null },
): Promise<{ workspaceId: string; role: Role } | null> {
  if (user.workspaceId) {
    const role = await getRole(db, user.id, user.workspaceId);
    if (role) return { workspaceId: user.workspaceId, role };
  }
  const first = await db.membership.findFirst({ where: { userId: user.id }, orderBy: { createdAt: "asc" } });
  if (!first || !isRole(first.role)) return null;
  await db.user.update({ where: { id: user.id }, data: { workspaceId: first.workspaceId } });
  return { workspaceId: first.workspaceId, role: first.role };
}

export async function addMember(db: Db, workspaceId: string, userId: string, role: Role) {
  return db.membership.upsert({
    where: { workspaceId_userId: { workspaceId, userId } },
    update: {},
    create: { id: newId("mem"), workspaceId, userId, role },
  });
}

export async function listMembers(db: Db, workspaceId: string) {
  const rows = await db.membership.findMany({
    where: { workspaceId },
    include: { user: { select: { id: true, name: true, email: true } } },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((m) => ({
    userId: m.userId,
    name: m.user.name,
    email: m.user.email,
    role: m.role,
    joinedAt: m.createdAt.toISOString(),
  }));
}

/**
 * Changes a member's role (or removes them, role null). Only an owner makes or unmakes an owner;
 * a change that would leave the workspace without an owner is refused and nothing changes.
 */
export async function changeMember(
  db: Db,
  opts: { workspaceId: string; userId: string; role: Role | null; byRole: Role },
): Promise<void> {
  await db.$transaction(async (tx) => {
    // one role change at a time per workspace: two owners demoting each other cannot both win
    await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${opts.workspaceId} FOR UPDATE`;
    const m = await tx.membership.findUnique({
      where: { workspaceId_userId: { workspaceId: opts.workspaceId, userId: opts.userId } },
    });
    if (!m) throw new AppError("not_found", `user ${opts.userId} is not a member of this workspace`);
    const touchesOwner = m.role === "owner" || opts.role === "owner";
    if (touchesOwner && opts.byRole !== "owner")
      throw new AppError("forbidden", "only an owner can make or change an owner");
    if (m.role === "owner" && opts.role !== "owner") {
      const owners = await tx.membership.count({ where: { workspaceId: opts.workspaceId, role: "owner" } });
      if (owners <= 1)
        throw new AppError(
          "conflict",
          "this would leave the workspace without an owner: make someone else owner first",
        );
    }
    if (opts.role === null) await tx.membership.delete({ where: { id: m.id } });
    else await tx.membership.update({ where: { id: m.id }, data: { role: opts.role } });
  });
}
