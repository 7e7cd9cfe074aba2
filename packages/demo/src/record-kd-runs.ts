import type { EngineEvent, RunConfig } from "@distillery/core";
import { createRun, type Db, ensureDefaultWorkspace } from "@distillery/db";
import type { KdCurve, KdMode } from "./run-kd-comparison.ts";

/** One student run of `demo:kd` as the studio stores it. */
export interface RecordedKdRun {
  mode: KdMode;
  config: RunConfig;
  /** the engine's metric events of the run, in the order it emitted them (chunks included) */
  metrics: Extract<EngineEvent, { type: "metric" }>[];
  curve: KdCurve;
}

/** the metric the studio charts held-out accuracy under (run page and compare view) */
export const HELDOUT_ACCURACY_METRIC = "heldout_accuracy";

/**
 * `demo:kd --studio`: the comparison's student runs become studio runs, so /runs/compare
 * overlays their held-out accuracy, KD loss, CE loss and top-1 agreement. Each run is stored
 * as the worker stores one (a Run row, succeeded, and its RunEvent rows), with the engine's
 * own metric events, then one `heldout_accuracy` point per evaluated step, renumbered into one
 * increasing seq (a chunked run restarts its engine's seq at every resume; the series are per
 * metric and step, so the order between metrics does not matter). Its summary says
 * it was recorded by demo:kd, not trained by a worker. Returns the run ids in order.
 */
export async function recordKdRuns(
  db: Db,
  runs: RecordedKdRun[],
  options: { workspaceId?: string; label?: string } = {},
): Promise<string[]> {
  const workspaceId = options.workspaceId ?? (await ensureDefaultWorkspace(db)).workspaceId;
  const label = options.label ?? new Date().toISOString().slice(0, 16).replace("T", " ");
  const ids: string[] = [];
  for (const r of runs) {
    const run = await createRun(db, {
      workspaceId,
      name: `demo:kd ${r.mode} · ${label}`,
      engine: "local",
      config: r.config as object,
    });
    const rows: { seq: number; type: string; step: number; data: object }[] = [];
    const push = (step: number, values: Record<string, number>, ts: number) => {
      const seq = rows.length;
      rows.push({
        seq,
        type: "metric",
        step,
        data: { type: "metric", runId: run.id, seq, ts, step, values },
      });
    };
    for (const e of r.metrics) push(e.step, e.values, e.ts);
    const at = Date.now();
    for (const p of r.curve.points) push(p.step, { [HELDOUT_ACCURACY_METRIC]: p.accuracy }, at);
    await db.$transaction([
      db.runEvent.createMany({
        data: rows.map((row) => ({ workspaceId, runId: run.id, ...row })),
      }),
      db.run.update({
        where: { id: run.id },
        data: {
          status: "succeeded",
          startedAt: new Date(Date.now() - r.curve.wall_s * 1000),
          finishedAt: new Date(),
          lastSeq: rows.length - 1,
          summary: {
            recordedBy: "demo:kd --studio (trained in process, not by a worker)",
            steps_to_90: r.curve.steps_to_90,
            final_accuracy: r.curve.final_accuracy,
          },
        },
      }),
    ]);
    ids.push(run.id);
  }
  return ids;
}
