import type { Db } from "./client.ts";

export const DEFAULT_WORKSPACE_ID = "ws_default";
export const LOCAL_USER_ID = "usr_local";

export interface Actor {
  userId: string;
  workspaceId: string;
  name: string;
  email: string;
}

/**
 * The local default actor: until accounts arrive every request acts as this user in the default
 * workspace. Routes receive an Actor from the route wrapper, so accounts slot in there alone.
 */
export async function ensureDefaultWorkspace(db: Db): Promise<Actor> {
  await db.workspace.upsert({
    where: { id: DEFAULT_WORKSPACE_ID },
    update: {},
    create: { id: DEFAULT_WORKSPACE_ID, slug: "default", name: "Default workspace" },
  });
  const user = await db.user.upsert({
    where: { id: LOCAL_USER_ID },
    update: {},
    create: {
      id: LOCAL_USER_ID,
      workspaceId: DEFAULT_WORKSPACE_ID,
      email: "local@distillery.dev",
      name: "Local user",
    },
  });
  return { userId: user.id, workspaceId: DEFAULT_WORKSPACE_ID, name: user.name, email: user.email };
}
