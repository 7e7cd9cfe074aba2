import { z } from "zod";
import { COMPARE_FILTERS } from "@/features/evaluations/lib/evaluation-types.ts";
import { compareEvaluations } from "@/features/evaluations/server/compare-evaluations.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Per-example rows of 1–4 evaluations side by side, filtered (wrong, fixed, broken by distillation). */
export const GET = withRoute({
  permission: "read",
  schemas: {
    query: z.object({
      ids: z
        .string()
        .transform((s) => [
          ...new Set(
            s
              .split(",")
              .map((x) => x.trim())
              .filter(Boolean),
          ),
        ])
        .pipe(
          z.array(z.string()).min(1, "ids: name 1 to 4 evaluations").max(4, "ids: at most 4 evaluations"),
        ),
      filter: z.enum(COMPARE_FILTERS).default("all"),
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  handler: async ({ actor, query }) => compareEvaluations(actor.workspaceId, query.ids, query),
});
