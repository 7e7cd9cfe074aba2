import { z } from "zod";
import { getRunDetail } from "@/features/runs/server/get-run-detail.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ runId: z.string().min(1) }) },
  handler: async ({ actor, params }) => getRunDetail(actor.workspaceId, params.runId),
});
