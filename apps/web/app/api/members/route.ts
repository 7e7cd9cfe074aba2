import { listMembers } from "@/features/auth/server/memberships.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ members: await listMembers(getContext().db, actor.workspaceId) }),
});
