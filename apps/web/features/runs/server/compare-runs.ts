import "server-only";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { diffConfigs } from "../lib/config-diff.ts";
import { RUN_VIEW_INCLUDE } from "./launch-run.ts";
import { queryRunMetrics } from "./run-metrics.ts";
import { toRunView } from "./run-view.ts";

/** 2+ runs side by side: their curves (downsampled for overlay) and where their configs differ. */
export async function compareRuns(workspaceId: string, ids: string[]) {
  const { db } = getContext();
  const rows = await db.run.findMany({ where: { workspaceId, id: { in: ids } }, include: RUN_VIEW_INCLUDE });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new AppError("not_found", `runs not found: ${missing.join(", ")}`);
  const ordered = rows.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  const metrics = await Promise.all(ordered.map((r) => queryRunMetrics(db, r.id, 1000)));
  return {
    runs: ordered.map((r, i) => ({ ...toRunView(r), series: metrics[i]?.series ?? {} })),
    diff: diffConfigs(ordered.map((r) => r.config)),
  };
}
