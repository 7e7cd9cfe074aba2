import { z } from "zod";
import { getDatasetVersion } from "@/features/datasets/server/dataset-views.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ datasetId: z.string().min(1), versionId: z.string().min(1) }) },
  handler: async ({ actor, params }) => ({
    version: await getDatasetVersion(actor.workspaceId, params.datasetId, params.versionId),
  }),
});
