import { getWorkers } from "@/features/workers/server/get-workers.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ workers: await getWorkers(actor.workspaceId) }),
});
