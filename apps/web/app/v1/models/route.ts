import { listServableModels, modelsResponse } from "@distillery/inference";
import { withOpenAiErrors } from "@/features/serving/server/openai-route.ts";
import { getModelPool } from "@/features/serving/server/serving.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Every model the workspace holds (base models, runs' merged models, adapters on their base), with load state. */
export const GET = withOpenAiErrors(
  withRoute({
    permission: "read",
    handler: async ({ actor }) =>
      modelsResponse(
        await listServableModels(getContext().db, actor.workspaceId),
        getModelPool(actor.workspaceId),
      ),
  }),
);
