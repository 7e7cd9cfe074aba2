import "server-only";
import { waitReason } from "@distillery/core";
import { RUN_VIEW_INCLUDE } from "@/features/runs/server/launch-run.ts";
import { toRunView } from "@/features/runs/server/run-view.ts";
import { getContext } from "@/lib/server/context.ts";

/** The team queue: waiting runs in the order workers take them (fair-queue order), and running runs. */
export async function getQueue(workspaceId: string) {
  const { db } = getContext();
  const [waiting, running] = await Promise.all([
    db.run.findMany({
      where: { workspaceId, status: "queued" },
      // the order workers take them: priority, then each person's turn, then age (core fair-queue.ts)
      orderBy: [{ priority: "desc" }, { queueRank: "asc" }, { createdAt: "asc" }],
      take: 500,
      include: RUN_VIEW_INCLUDE,
    }),
    db.run.findMany({
      where: { workspaceId, status: { in: ["claimed", "running"] } },
      orderBy: { startedAt: "asc" },
      take: 500,
      include: RUN_VIEW_INCLUDE,
    }),
  ]);
  // position within the run's own engine queue: a local run never waits behind an hf run
  const seen: Record<string, number> = {};
  const positionIn = (engine: string) => {
    seen[engine] = (seen[engine] ?? 0) + 1;
    return seen[engine];
  };
  const aheadIn: Record<string, typeof waiting> = {};
  const reasonFor = (r: (typeof waiting)[number]) => {
    aheadIn[r.engine] ??= [];
    const ahead = aheadIn[r.engine] ?? [];
    const reason = waitReason(r, ahead);
    ahead.push(r);
    return reason;
  };
  return {
    waiting: waiting.map((r) => ({
      ...toRunView(r),
      position: positionIn(r.engine),
      priority: r.priority,
      waitReason: reasonFor(r),
    })),
    running: running.map(toRunView),
  };
}
export type QueueView = Awaited<ReturnType<typeof getQueue>>;
