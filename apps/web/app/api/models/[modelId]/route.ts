import { z } from "zod";
import { getModelDetail } from "@/features/models/server/model-views.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ modelId: z.string().min(1) }) },
  handler: async ({ actor, params }) => getModelDetail(actor.workspaceId, params.modelId),
});
