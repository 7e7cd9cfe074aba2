import { listModels } from "@/features/runs/server/list-models.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  auth: "user",
  handler: async ({ actor }) => ({ models: await listModels(actor.workspaceId) }),
});
