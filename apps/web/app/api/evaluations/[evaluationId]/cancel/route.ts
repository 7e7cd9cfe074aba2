import { z } from "zod";
import { cancelEvaluation } from "@/features/evaluations/server/create-evaluations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ evaluationId: z.string().min(1) }) },
  audit: ({ params }) => ({
    action: "evaluation.cancel",
    targetType: "evaluation",
    targetId: params.evaluationId,
  }),
  handler: async ({ actor, params }) => cancelEvaluation(actor.workspaceId, params.evaluationId),
});
