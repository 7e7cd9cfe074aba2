import { z } from "zod";
import { cancelRun } from "@/features/runs/server/cancel-run.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  auth: "user",
  schemas: { params: z.object({ runId: z.string().min(1) }) },
  handler: async ({ actor, params }) => cancelRun(actor.workspaceId, params.runId),
});
