import { z } from "zod";
import { findRunOrThrow } from "@/features/runs/server/get-run-detail.ts";
import { getRunSamples } from "@/features/runs/server/get-run-samples.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ runId: z.string().min(1) }),
    query: z.object({
      take: z.coerce.number().int().min(1).max(500).default(50),
      before: z.coerce.number().int().min(0).optional(),
    }),
  },
  handler: async ({ actor, params, query }) => {
    await findRunOrThrow(actor.workspaceId, params.runId);
    return getRunSamples(params.runId, { take: query.take, beforeSeq: query.before });
  },
});
