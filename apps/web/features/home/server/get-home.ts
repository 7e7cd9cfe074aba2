import "server-only";
import { RUN_VIEW_INCLUDE } from "@/features/runs/server/launch-run.ts";
import { toRunView } from "@/features/runs/server/run-view.ts";
import { getContext } from "@/lib/server/context.ts";

/** The built-in demo's names: a workspace holding only these is a new one. */
const DEMO_RUN_PREFIX = "Tiny reasoning demo";
const isDemoDataset = (name: string) => name.startsWith("demo-");
const isDemoModel = (name: string) => name.startsWith("distillery/");

/** Where a running run is: its latest step, the total the engine announced, and its phase. */
async function progressOf(runId: string) {
  const { db } = getContext();
  const [status, metric] = await Promise.all([
    db.runEvent.findFirst({
      where: { runId, type: "status" },
      orderBy: { seq: "desc" },
      select: { data: true },
    }),
    db.runEvent.findFirst({
      where: { runId, type: "metric" },
      orderBy: { seq: "desc" },
      select: { step: true },
    }),
  ]);
  const s = (status?.data ?? {}) as { phase?: string; step?: number; totalSteps?: number };
  const step = Math.max(metric?.step ?? 0, s.step ?? 0);
  return { phase: s.phase ?? null, step, totalSteps: s.totalSteps ?? null };
}

/**
 * The home page: running runs with their progress, recent ones with their outcome, the queue,
 * and, for a workspace that has only the demo, the three first steps and which are done.
 */
export async function getHome(workspaceId: string) {
  const { db } = getContext();
  const [running, recent, waiting, datasets, models, ownRuns, demoRun] = await Promise.all([
    db.run.findMany({
      where: { workspaceId, status: { in: ["claimed", "running"] } },
      orderBy: { startedAt: "asc" },
      take: 20,
      include: RUN_VIEW_INCLUDE,
    }),
    db.run.findMany({
      where: { workspaceId, status: { in: ["succeeded", "failed", "cancelled"] } },
      orderBy: { finishedAt: "desc" },
      take: 8,
      include: RUN_VIEW_INCLUDE,
    }),
    db.run.findMany({
      where: { workspaceId, status: "queued" },
      orderBy: { createdAt: "asc" },
      take: 50,
      select: { id: true, name: true, engine: true, createdAt: true },
    }),
    db.dataset.findMany({ where: { workspaceId }, select: { name: true }, take: 200 }),
    db.model.findMany({ where: { workspaceId }, select: { name: true }, take: 200 }),
    db.run.count({ where: { workspaceId, NOT: { name: { startsWith: DEMO_RUN_PREFIX } } } }),
    // the distillation run is the demo's point: watch it (the base run comes first)
    db.run.findFirst({
      where: { workspaceId, name: { startsWith: DEMO_RUN_PREFIX } },
      orderBy: [{ dependsOnRunId: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
      select: { id: true, name: true, status: true },
    }),
  ]);
  const runningViews = await Promise.all(
    running.map(async (r) => ({ ...toRunView(r), progress: await progressOf(r.id) })),
  );
  const hasOwnDataset = datasets.some((d) => !isDemoDataset(d.name));
  const hasOwnModel = models.some((m) => !isDemoModel(m.name));
  return {
    running: runningViews,
    recent: recent.map(toRunView),
    queue: {
      waiting: waiting.length,
      byEngine: waiting.reduce<Record<string, number>>((acc, r) => {
        acc[r.engine] = (acc[r.engine] ?? 0) + 1;
        return acc;
      }, {}),
      next: waiting
        .slice(0, 5)
        .map((r) => ({ id: r.id, name: r.name, engine: r.engine, createdAt: r.createdAt.toISOString() })),
    },
    firstSteps: {
      isNewWorkspace: !hasOwnDataset && !hasOwnModel && ownRuns === 0,
      demoRun,
      hasOwnDataset,
      hasOwnModel,
    },
  };
}
export type HomeView = Awaited<ReturnType<typeof getHome>>;
