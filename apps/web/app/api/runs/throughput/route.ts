import { measureThroughput } from "@/features/runs/server/throughput.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ engines: await measureThroughput(actor.workspaceId) }),
});
