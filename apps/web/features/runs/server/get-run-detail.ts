import "server-only";
import type { EngineEvent } from "@distillery/core";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { RUN_VIEW_INCLUDE } from "./launch-run.ts";
import { toRunView } from "./run-view.ts";

export async function findRunOrThrow(workspaceId: string, runId: string) {
  const run = await getContext().db.run.findFirst({
    where: { id: runId, workspaceId },
    include: RUN_VIEW_INCLUDE,
  });
  if (!run) throw new AppError("not_found", `run ${runId} not found`);
  return run;
}

const ACTIVITY_TYPES = ["status", "log", "eval", "checkpoint", "artifact", "done", "error"];

/**
 * Everything the run page shows besides curves and samples: the run, its latest status (phase,
 * step, totalSteps), logs, evals, checkpoints and artifacts, up to throughSeq.
 */
export async function getRunDetail(workspaceId: string, runId: string) {
  const { db } = getContext();
  const run = await findRunOrThrow(workspaceId, runId);
  const throughSeq = run.lastSeq;
  const [activityRows, lastMetric, trainingStart] = await Promise.all([
    db.runEvent.findMany({
      where: { runId, type: { in: ACTIVITY_TYPES }, seq: { lte: throughSeq } },
      orderBy: { seq: "desc" },
      take: 500,
      select: { data: true },
    }),
    db.runEvent.findFirst({
      where: { runId, type: "metric", seq: { lte: throughSeq } },
      orderBy: { seq: "desc" },
      select: { data: true },
    }),
    // the anchor of the ETA: where the current attempt started training
    db.runEvent.findFirst({
      where: {
        runId,
        type: "status",
        seq: { lte: throughSeq },
        data: { path: ["phase"], equals: "training" },
      },
      orderBy: { seq: "desc" },
      select: { data: true },
    }),
  ]);
  const activity = activityRows.map((r) => r.data as unknown as EngineEvent).reverse();
  return {
    run: toRunView(run),
    activity,
    lastMetric: (lastMetric?.data ?? null) as unknown as EngineEvent | null,
    trainingStart: (trainingStart?.data ?? null) as unknown as EngineEvent | null,
    throughSeq,
  };
}
export type RunDetail = Awaited<ReturnType<typeof getRunDetail>>;
