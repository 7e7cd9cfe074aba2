import { z } from "zod";
import { testTeacher } from "@/features/teachers/server/teachers-service.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Test connection: list the models, one short request, latency, where the reasoning came back. */
export const POST = withRoute({
  permission: "admin",
  schemas: { params: z.object({ teacherId: z.string().min(1) }) },
  handler: async ({ actor, params }) => testTeacher(actor.workspaceId, params.teacherId),
});
