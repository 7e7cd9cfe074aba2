import { launchRun, ZLaunchRun } from "@/features/runs/server/launch-run.ts";
import { listRunViews, ZListRunsQuery } from "@/features/runs/server/list-runs.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  auth: "user",
  schemas: { query: ZListRunsQuery },
  handler: async ({ actor, query }) => listRunViews(actor.workspaceId, query),
});

export const POST = withRoute({
  auth: "user",
  schemas: { body: ZLaunchRun },
  handler: async ({ actor, body }) =>
    Response.json({ run: await launchRun(actor, body.config) }, { status: 201 }),
});
