import { listServableModels, modelsResponse } from "@distillery/inference";
import { withOpenAiErrors } from "@/features/serving/server/openai-route.ts";
import { getModelPool, getUpstreams } from "@/features/serving/server/serving.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Every model the workspace holds (base models, runs' merged models, adapters on their base), with load state. */
export const GET = withOpenAiErrors(
  withRoute({
    permission: "read",
    handler: async ({ actor }) => {
      const models = await listServableModels(getContext().db, actor.workspaceId);
      // a model on a GPU server: "loading" until the server lists it on its own /v1/models
      const upstreams = await getUpstreams(actor.workspaceId).states(models.map((m) => m.id));
      return modelsResponse(models, getModelPool(actor.workspaceId), upstreams);
    },
  }),
);
