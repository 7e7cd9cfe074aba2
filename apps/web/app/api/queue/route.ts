import { getQueue } from "@/features/queue/server/get-queue.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => getQueue(actor.workspaceId),
});
