import { listTokenizerModels } from "@/features/datasets/server/dataset-views.ts";
import { getDatasetsContext } from "@/features/datasets/server/datasets-env.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => {
    const { store } = getDatasetsContext();
    return { models: await listTokenizerModels(actor.workspaceId, (key) => store.exists(key)) };
  },
});
