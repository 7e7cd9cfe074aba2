import { z } from "zod";
import { deleteTeacherLogits } from "@/features/datasets/server/delete-teacher-logits.ts";
import { teacherLogitsAction, ZTeacherLogitsAction } from "@/features/datasets/server/teacher-logits.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

const params = z.object({ versionId: z.string().min(1), artifactId: z.string().min(1) });

/** `compute` an estimated artifact, or `cancel` one that is waiting or being worked on. */
export const POST = withRoute({
  permission: "write",
  schemas: { params, body: ZTeacherLogitsAction },
  handler: async ({ actor, params, body }) =>
    teacherLogitsAction(actor, params.versionId, params.artifactId, body.action),
});

/**
 * Deletes the artifact's files and row (members their own, admins any); 409 while a worker
 * computes it or a queued/running run reads it.
 */
export const DELETE = withRoute({
  permission: "write",
  schemas: { params },
  audit: ({ params }) => ({
    action: "teacher_logits.delete",
    targetType: "teacher_logits",
    targetId: params.artifactId,
    data: { versionId: params.versionId },
  }),
  handler: async ({ actor, params }) => deleteTeacherLogits(actor, params.versionId, params.artifactId),
});
