import { getHome } from "@/features/home/server/get-home.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => getHome(actor.workspaceId),
});
