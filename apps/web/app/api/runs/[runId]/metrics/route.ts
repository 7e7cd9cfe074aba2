import { z } from "zod";
import { findRunOrThrow } from "@/features/runs/server/get-run-detail.ts";
import { MAX_POINTS_PER_SERIES, queryRunMetrics } from "@/features/runs/server/run-metrics.ts";
import { getContext } from "@/lib/server/context.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ runId: z.string().min(1) }),
    query: z.object({ points: z.coerce.number().int().min(10).max(20_000).default(MAX_POINTS_PER_SERIES) }),
  },
  handler: async ({ actor, params, query }) => {
    await findRunOrThrow(actor.workspaceId, params.runId);
    return queryRunMetrics(getContext().db, params.runId, query.points);
  },
});
