import { type Db, DEFAULT_WORKSPACE_ID, ensureDefaultWorkspace, LOCAL_USER_ID } from "@distillery/db";
import { AppError } from "@/lib/server/app-error.ts";
import { addMember } from "./memberships.ts";

/** The studio needs its first start until someone has an account with a password. */
export async function needsSetup(db: Db): Promise<boolean> {
  return !(await db.account.findFirst({ where: { providerId: "credential" }, select: { id: true } }));
}

/**
 * Holds the first start for one visitor (a Setting row, first writer wins), so two people opening
 * the studio at once cannot both become owner. `release` undoes the claim when sign-up fails.
 */
export async function claimSetup(db: Db): Promise<{ release: () => Promise<void> }> {
  if (!(await needsSetup(db))) throw new AppError("conflict", "this studio already has an owner: sign in");
  const claimed = await db.setting.createMany({
    data: [{ key: "setup.claimed", value: new Date().toISOString() }],
    skipDuplicates: true,
  });
  if (claimed.count !== 1) throw new AppError("conflict", "the owner account is being created right now");
  return { release: () => db.setting.deleteMany({ where: { key: "setup.claimed" } }).then(() => {}) };
}

/** The new owner takes the default (demo) workspace over from the local placeholder user. */
export async function makeOwnerOfDefaultWorkspace(db: Db, userId: string): Promise<string> {
  await ensureDefaultWorkspace(db);
  await addMember(db, DEFAULT_WORKSPACE_ID, userId, "owner");
  await db.membership.deleteMany({ where: { workspaceId: DEFAULT_WORKSPACE_ID, userId: LOCAL_USER_ID } });
  await db.user.update({ where: { id: userId }, data: { workspaceId: DEFAULT_WORKSPACE_ID } });
  return DEFAULT_WORKSPACE_ID;
}
