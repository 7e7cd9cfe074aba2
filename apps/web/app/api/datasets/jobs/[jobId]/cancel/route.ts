import { z } from "zod";
import { cancelDatasetJob } from "@/features/datasets/server/cancel-dataset-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  auth: "user",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ actor, params }) => cancelDatasetJob(actor.workspaceId, params.jobId),
});
