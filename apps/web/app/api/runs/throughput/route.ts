import { measureThroughput } from "@/features/runs/server/throughput.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  auth: "user",
  handler: async ({ actor }) => ({ engines: await measureThroughput(actor.workspaceId) }),
});
