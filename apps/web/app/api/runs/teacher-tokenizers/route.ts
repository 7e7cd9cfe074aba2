import { z } from "zod";
import { checkTeacherTokenizers } from "@/features/runs/server/teacher-tokenizers.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/**
 * For the run form's teacher picker: whether each model of the workspace shares the student's
 * tokenizer (with the run's special tokens), as the launch will check it for logit and
 * on-policy distillation.
 */
export const GET = withRoute({
  permission: "read",
  schemas: {
    query: z.object({
      student: z.string({ error: "name the student model: student=<model id>" }).min(1),
      /** the run's special tokens, comma-separated (as the form types them) */
      specialTokens: z
        .string()
        .optional()
        .transform((s) =>
          (s ?? "")
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean),
        ),
    }),
  },
  handler: async ({ actor, query }) =>
    checkTeacherTokenizers(actor.workspaceId, query.student, query.specialTokens),
});
