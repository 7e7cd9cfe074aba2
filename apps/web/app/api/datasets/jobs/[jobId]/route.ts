import { z } from "zod";
import { getDatasetJob } from "@/features/datasets/server/dataset-views.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ actor, params }) => ({ job: await getDatasetJob(actor.workspaceId, params.jobId) }),
});
