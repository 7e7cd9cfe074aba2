import { z } from "zod";
import { compareRuns } from "@/features/runs/server/compare-runs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: {
    query: z.object({
      ids: z
        .string({ error: "list the runs to compare: ids=run_a,run_b" })
        .transform((s) => [
          ...new Set(
            s
              .split(",")
              .map((x) => x.trim())
              .filter(Boolean),
          ),
        ])
        .pipe(
          z.array(z.string()).min(2, "pick at least two runs to compare").max(8, "compare at most 8 runs"),
        ),
    }),
  },
  handler: async ({ actor, query }) => compareRuns(actor.workspaceId, query.ids),
});
