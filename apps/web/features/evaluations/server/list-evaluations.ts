import "server-only";
import { newId, type Prisma } from "@distillery/db";
import { AppError, getContext } from "@/lib/server/route.ts";
import { toEvaluationView } from "./evaluation-view.ts";

/**
 * A run's own before/after evaluations (its `eval` events) become ordinary Evaluation rows,
 * linked to the run, once: metrics only (the engine keeps no per-example outputs). Idempotent
 * on (run, phase).
 */
export async function importRunEvaluations(workspaceId: string, runId: string): Promise<void> {
  const { db } = getContext();
  const events = await db.runEvent.findMany({
    where: { runId, workspaceId, type: "eval" },
    orderBy: { seq: "asc" },
  });
  if (events.length === 0) return;
  const run = await db.run.findFirst({ where: { id: runId, workspaceId } });
  if (!run) return;
  const have = new Set(
    (await db.evaluation.findMany({ where: { runId, phase: { not: null } }, select: { phase: true } })).map(
      (e) => e.phase,
    ),
  );
  for (const e of events) {
    const data = e.data as { name?: string; metrics?: Record<string, number> };
    const phase = data.name ?? "eval";
    if (have.has(phase)) continue;
    have.add(phase);
    const base = (run.config as { model?: { id?: string } }).model?.id ?? "base";
    await db.evaluation.create({
      data: {
        id: newId("eval"),
        workspaceId,
        name: `${run.name} · ${phase}`,
        model: phase === "before" ? base : run.id,
        evalSet: { kind: "run-event", runId } as Prisma.InputJsonValue,
        settings: {},
        status: "succeeded",
        runId,
        phase,
        total: data.metrics?.n ?? 0,
        done: data.metrics?.n ?? 0,
        metrics: (data.metrics ?? {}) as Prisma.InputJsonValue,
        finishedAt: e.createdAt,
        createdAt: e.createdAt,
      },
    });
  }
}

export async function listEvaluations(workspaceId: string, filters: { runId?: string }) {
  const { db } = getContext();
  if (filters.runId) await importRunEvaluations(workspaceId, filters.runId);
  const rows = await db.evaluation.findMany({
    where: { workspaceId, ...(filters.runId ? { runId: filters.runId } : {}) },
    orderBy: { createdAt: "desc" },
    take: 200,
  });
  return rows.map(toEvaluationView);
}

export async function getEvaluation(workspaceId: string, id: string) {
  const row = await getContext().db.evaluation.findFirst({ where: { id, workspaceId } });
  if (!row) throw new AppError("not_found", `no evaluation ${id}`);
  return toEvaluationView(row);
}
