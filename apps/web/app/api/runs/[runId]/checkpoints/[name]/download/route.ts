import { z } from "zod";
import { downloadCheckpoint } from "@/features/runs/server/run-artifacts.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({
      runId: z.string().min(1),
      name: z.string().regex(/^checkpoint-\d+$/, "a checkpoint is named checkpoint-<step>"),
    }),
  },
  handler: async ({ actor, params }) => downloadCheckpoint(actor.workspaceId, params.runId, params.name),
});
