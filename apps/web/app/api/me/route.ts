import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Who is signed in, the workspace they work in, their role there, and their other workspaces. */
export const GET = withRoute({
  permission: "account",
  handler: async ({ actor }) => {
    const memberships = await getContext().db.membership.findMany({
      where: { userId: actor.userId },
      include: { workspace: { select: { id: true, name: true, slug: true } } },
      orderBy: { createdAt: "asc" },
    });
    return {
      user: { id: actor.userId, name: actor.name, email: actor.email },
      via: actor.via,
      workspaceId: actor.workspaceId || null,
      role: actor.workspaceId ? actor.role : null,
      tokenScope: actor.tokenScope ?? null,
      workspaces: memberships.map((m) => ({ ...m.workspace, role: m.role })),
    };
  },
});
