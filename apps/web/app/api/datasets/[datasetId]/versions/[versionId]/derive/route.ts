import { z } from "zod";
import { ZDeriveRequest } from "@/features/datasets/lib/dataset-requests.ts";
import { startDerive } from "@/features/datasets/server/start-dataset-job.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: {
    params: z.object({ datasetId: z.string().min(1), versionId: z.string().min(1) }),
    body: ZDeriveRequest,
  },
  handler: async ({ actor, params, body }) => startDerive(actor, params, body),
});
