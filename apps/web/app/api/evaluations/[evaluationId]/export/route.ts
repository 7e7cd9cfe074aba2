import { z } from "zod";
import { exportEvaluation } from "@/features/evaluations/server/export-evaluation.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ evaluationId: z.string().min(1) }),
    query: z.object({ format: z.enum(["csv", "jsonl"]).default("csv") }),
  },
  handler: async ({ actor, params, query }) =>
    exportEvaluation(actor.workspaceId, params.evaluationId, query.format),
});
