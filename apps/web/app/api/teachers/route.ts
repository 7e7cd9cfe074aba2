import { ZTeacherBody } from "@/features/teachers/server/teacher-schemas.ts";
import { addTeacher, listWorkspaceTeachers } from "@/features/teachers/server/teachers-service.ts";
import { withRoute } from "@/lib/server/route.ts";
import { resultId } from "@/lib/server/with-route.ts";

export const dynamic = "force-dynamic";

/** Teacher endpoints of the workspace (never their keys: only whether one is set). */
export const GET = withRoute({
  permission: "read",
  handler: async ({ actor }) => ({ teachers: await listWorkspaceTeachers(actor.workspaceId) }),
});

/** Admins add teachers; the key is sealed at rest and never returned. */
export const POST = withRoute({
  permission: "admin",
  schemas: { body: ZTeacherBody },
  audit: ({ body, result }) => ({
    action: "teacher.create",
    targetType: "teacher",
    targetId: resultId(result),
    data: { name: body.name, isSecretSet: !!body.apiKey },
  }),
  handler: async ({ actor, body }) => addTeacher(actor.workspaceId, actor.userId, body),
});
