import { z } from "zod";
import { teacherLogitsAction, ZTeacherLogitsAction } from "@/features/datasets/server/teacher-logits.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** `compute` an estimated artifact, or `cancel` one that is waiting or being worked on. */
export const POST = withRoute({
  permission: "write",
  schemas: {
    params: z.object({ versionId: z.string().min(1), artifactId: z.string().min(1) }),
    body: ZTeacherLogitsAction,
  },
  handler: async ({ actor, params, body }) =>
    teacherLogitsAction(actor, params.versionId, params.artifactId, body.action),
});
