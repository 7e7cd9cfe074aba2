import { z } from "zod";
import { actOnGeneration } from "@/features/generations/server/generation-actions.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

export const POST = withRoute({
  permission: "write",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  audit: ({ params }) => ({ action: "generation.cancel", targetType: "generation", targetId: params.jobId }),
  handler: async ({ actor, params }) => actOnGeneration(actor, params.jobId, "cancel"),
});
