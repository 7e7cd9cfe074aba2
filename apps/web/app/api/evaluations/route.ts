import { z } from "zod";
import { createEvaluations, ZCreateEvaluations } from "@/features/evaluations/server/create-evaluations.ts";
import { listEvaluations } from "@/features/evaluations/server/list-evaluations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { query: z.object({ runId: z.string().optional() }) },
  handler: async ({ actor, query }) => ({ evaluations: await listEvaluations(actor.workspaceId, query) }),
});

/** Queues one evaluation per model (1–4) on the same eval set with the same settings. */
export const POST = withRoute({
  permission: "write",
  schemas: { body: ZCreateEvaluations },
  audit: ({ body }) => ({
    action: "evaluation.launch",
    targetType: "evaluation",
    data: { models: body.models },
  }),
  handler: async ({ actor, body }) => {
    const evaluations = await createEvaluations(actor, body);
    return Response.json({ evaluations }, { status: 201 });
  },
});
