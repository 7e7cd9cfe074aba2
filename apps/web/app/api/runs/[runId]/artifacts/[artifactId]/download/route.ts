import { z } from "zod";
import { downloadArtifact } from "@/features/runs/server/run-artifacts.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** One file as itself, a folder (adapter, merged model) as a tar; streamed either way. */
export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ runId: z.string().min(1), artifactId: z.string().min(1) }) },
  handler: async ({ actor, params }) => downloadArtifact(actor.workspaceId, params.runId, params.artifactId),
});
