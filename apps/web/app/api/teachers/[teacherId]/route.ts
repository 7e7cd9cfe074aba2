import { z } from "zod";
import { ZTeacherPatch } from "@/features/teachers/server/teacher-schemas.ts";
import {
  editTeacher,
  findTeacherOrThrow,
  removeTeacher,
} from "@/features/teachers/server/teachers-service.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
const params = z.object({ teacherId: z.string().min(1) });

export const GET = withRoute({
  permission: "read",
  schemas: { params },
  handler: async ({ actor, params }) => findTeacherOrThrow(actor.workspaceId, params.teacherId),
});

export const PATCH = withRoute({
  permission: "admin",
  schemas: { params, body: ZTeacherPatch },
  // a changed or cleared API key is a secret change
  audit: ({ params, body }) => ({
    action: body.apiKey !== undefined ? "teacher.secret_change" : "teacher.update",
    targetType: "teacher",
    targetId: params.teacherId,
    data: { fields: Object.keys(body ?? {}).filter((k) => k !== "apiKey") },
  }),
  handler: async ({ actor, params, body }) => editTeacher(actor.workspaceId, params.teacherId, body),
});

export const DELETE = withRoute({
  permission: "admin",
  schemas: { params },
  audit: ({ params }) => ({ action: "teacher.delete", targetType: "teacher", targetId: params.teacherId }),
  handler: async ({ actor, params }) => removeTeacher(actor.workspaceId, params.teacherId),
});
