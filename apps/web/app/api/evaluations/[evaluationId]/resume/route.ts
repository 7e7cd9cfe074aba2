import { z } from "zod";
import { resumeEvaluation } from "@/features/evaluations/server/create-evaluations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ evaluationId: z.string().min(1) }) },
  handler: async ({ actor, params }) => resumeEvaluation(actor.workspaceId, params.evaluationId),
});
