import { z } from "zod";
import { browseRows } from "@/features/datasets/server/browse-rows.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ datasetId: z.string().min(1), versionId: z.string().min(1) }),
    query: z.object({
      /** the first row to look at: 0, or the previous page's `next` */
      from: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      q: z.string().max(500).optional(),
    }),
  },
  handler: async ({ actor, params, query }) => browseRows(actor.workspaceId, params, query),
});
