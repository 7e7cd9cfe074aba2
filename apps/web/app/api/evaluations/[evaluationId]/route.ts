import { z } from "zod";
import { getEvaluation } from "@/features/evaluations/server/list-evaluations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ evaluationId: z.string().min(1) }) },
  handler: async ({ actor, params }) => getEvaluation(actor.workspaceId, params.evaluationId),
});
