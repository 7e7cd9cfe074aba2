import { z } from "zod";
import { findRunOrThrow } from "@/features/runs/server/get-run-detail.ts";
import { createRunEventStream, resolveAfterSeq } from "@/features/runs/server/run-event-stream.ts";
import { getContext } from "@/lib/server/context.ts";
import { withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/**
 * Server-sent events of one run: replays persisted events after `Last-Event-ID` (or `?after=`,
 * or from the start), then tails live ones; `id:` is the event's seq, so the browser's
 * EventSource resumes by itself. Ends with `event: end` once the run is finished.
 */
export const GET = withRoute({
  permission: "read",
  schemas: {
    params: z.object({ runId: z.string().min(1) }),
    query: z.object({ after: z.coerce.number().int().min(-1).optional() }),
  },
  handler: async ({ req, actor, params, query }) => {
    await findRunOrThrow(actor.workspaceId, params.runId);
    const { db, hub } = getContext();
    const stream = createRunEventStream({
      db,
      hub,
      runId: params.runId,
      afterSeq: resolveAfterSeq(req.headers.get("last-event-id"), query.after),
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
