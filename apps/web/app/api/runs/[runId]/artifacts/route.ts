import { z } from "zod";
import { listRunArtifacts } from "@/features/runs/server/run-artifacts.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ runId: z.string().min(1) }) },
  handler: async ({ actor, params }) => listRunArtifacts(actor.workspaceId, params.runId),
});
