import { listReadyDatasetVersions } from "@/features/runs/server/list-dataset-versions.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  auth: "user",
  handler: async ({ actor }) => ({ versions: await listReadyDatasetVersions(actor.workspaceId) }),
});
