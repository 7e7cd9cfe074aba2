import { z } from "zod";
import { createGenerationEventStream } from "@/features/generations/server/generation-event-stream.ts";
import { getGenerationView } from "@/features/generations/server/generation-view.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Server-sent events of a generation job: `progress` (figures and newest rows), then `end`. */
export const GET = withRoute({
  permission: "read",
  schemas: { params: z.object({ jobId: z.string().min(1) }) },
  handler: async ({ req, actor, params }) => {
    await getGenerationView(actor.workspaceId, params.jobId, { rows: 0 });
    const stream = createGenerationEventStream({
      workspaceId: actor.workspaceId,
      jobId: params.jobId,
      signal: req.signal,
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      },
    });
  },
});
