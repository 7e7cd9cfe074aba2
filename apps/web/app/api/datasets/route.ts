import { listDatasets } from "@/features/datasets/server/dataset-views.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ datasets: await listDatasets(actor.workspaceId) }),
});
