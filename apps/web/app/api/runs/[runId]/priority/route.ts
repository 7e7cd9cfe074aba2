import { bullmqPriorityFor, RUN_PRIORITY_MAX, RUN_PRIORITY_MIN } from "@distillery/core";
import { runQueueFor } from "@distillery/jobs";
import { z } from "zod";
import { recordAudit } from "@/features/auth/server/audit.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** Admins raise (or lower) a waiting run's priority; the queued job moves with it. */
export const PATCH = withRoute({
  permission: "admin",
  summary: "Set a waiting run's priority (higher runs first)",
  schemas: {
    params: z.object({ runId: z.string().min(1) }),
    body: z.object({ priority: z.number().int().min(RUN_PRIORITY_MIN).max(RUN_PRIORITY_MAX) }),
  },
  handler: async ({ req, actor, params, body }) => {
    const { db, producer } = getContext();
    const run = await db.run.findFirst({ where: { id: params.runId, workspaceId: actor.workspaceId } });
    if (!run) throw new AppError("not_found", `run ${params.runId} not found`);
    if (run.status !== "queued")
      throw new AppError("conflict", `run ${params.runId} is ${run.status}, not waiting`);
    await db.run.update({ where: { id: run.id }, data: { priority: body.priority } });
    const job = await producer
      .queue(runQueueFor(run.engine as "local" | "hf"))
      .getJob(run.id)
      .catch(() => undefined);
    // a job not in Redis (an outage) is enqueued later by the sweeper
    await job?.changePriority({ priority: bullmqPriorityFor(body.priority, run.queueRank) }).catch(() => {});
    await recordAudit(db, {
      workspaceId: actor.workspaceId,
      actorId: actor.userId,
      actorEmail: actor.email,
      action: "run.priority",
      targetType: "run",
      targetId: run.id,
      data: { from: run.priority, to: body.priority },
      req,
    });
    return { runId: run.id, priority: body.priority };
  },
});
