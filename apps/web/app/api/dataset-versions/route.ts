import { listReadyDatasetVersions } from "@/features/runs/server/list-dataset-versions.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ versions: await listReadyDatasetVersions(actor.workspaceId) }),
});
