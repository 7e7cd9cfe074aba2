import { z } from "zod";
import { getGenerationView } from "@/features/generations/server/generation-view.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ jobId: z.string().min(1) }),
    query: z.object({ rows: z.coerce.number().int().min(0).max(200).optional() }),
  },
  handler: async ({ actor, params, query }) =>
    getGenerationView(actor.workspaceId, params.jobId, query.rows !== undefined ? { rows: query.rows } : {}),
});
