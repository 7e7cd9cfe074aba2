import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Db, listRunEvents } from "@distillery/db";

const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

/**
 * A checkpoint counts once its event is in Postgres. An engine killed between writing a
 * checkpoint and the worker persisting the events before it would otherwise resume past steps
 * whose metrics were never stored, leaving a gap in the series. So before a resumed run starts,
 * checkpoints newer than the last recorded one are removed, and the engine resumes from a step
 * whose history is complete. Looks where engines write them: the recorded paths' folders, and
 * `<outDir>` and `<outDir>/checkpoints`.
 */
export async function pruneUnrecordedCheckpoints(db: Db, runId: string, outDir: string): Promise<number[]> {
  const recorded = await listRunEvents(db, runId, { types: ["checkpoint"] });
  let maxStep = -1;
  const folders = new Set([outDir, join(outDir, "checkpoints")]);
  for (const e of recorded) {
    if (e.type !== "checkpoint") continue;
    maxStep = Math.max(maxStep, e.step);
    folders.add(dirname(e.path));
  }
  const removed: number[] = [];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const step = Number(CHECKPOINT_DIR.exec(name)?.[1] ?? Number.NaN);
      if (Number.isFinite(step) && step > maxStep) {
        rmSync(join(folder, name), { recursive: true, force: true });
        removed.push(step);
      }
    }
  }
  return removed.sort((a, b) => a - b);
}
