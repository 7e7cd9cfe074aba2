import { recordAudit } from "@/features/auth/server/audit.ts";
import { launchRun, ZLaunchRun } from "@/features/runs/server/launch-run.ts";
import { listRunViews, ZListRunsQuery } from "@/features/runs/server/list-runs.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { query: ZListRunsQuery },
  handler: async ({ actor, query }) => listRunViews(actor.workspaceId, query),
});

export const POST = withRoute({
  permission: "write",
  schemas: { body: ZLaunchRun },
  handler: async ({ req, actor, body }) => {
    const run = await launchRun(actor, body.config);
    await recordAudit(getContext().db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "run.launch",
      targetType: "run",
      targetId: run.id,
      data: { name: run.name },
      req,
    });
    return Response.json({ run }, { status: 201 });
  },
});
