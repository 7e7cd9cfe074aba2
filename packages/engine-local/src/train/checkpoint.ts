import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../engine-error.ts";
import { readSafetensors, writeSafetensors } from "../io/safetensors.ts";
import type { Param } from "../model/param.ts";
import type { AdamWState } from "./adamw.ts";

/**
 * A checkpoint is a directory `checkpoint-<step>` holding the trainable weights, the AdamW
 * moments and trainer_state.json. It is written under a temporary name and renamed into place,
 * so a process killed with SIGKILL at any instant leaves either the whole checkpoint or none.
 */
export interface TrainerState {
  step: number;
  totalSteps: number;
  epoch: number;
  adamStep: number;
  /** running sums for the next logged loss, so the first log after a resume is the same */
  lossSum: number;
  lossCount: number;
  lastLoss: number | null;
  lastEvalLoss: number | null;
}

const PREFIX = "checkpoint-";

export function checkpointsDir(outDir: string): string {
  return join(outDir, "checkpoints");
}

export function saveCheckpoint(
  outDir: string,
  params: Param[],
  opt: AdamWState,
  state: TrainerState,
  keep = 2,
): string {
  const root = checkpointsDir(outDir);
  mkdirSync(root, { recursive: true });
  const final = join(root, `${PREFIX}${state.step}`);
  const tmp = join(root, `.tmp-${PREFIX}${state.step}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeSafetensors(
    join(tmp, "trainable.safetensors"),
    params.map((p) => [p.name, p] as [string, Param]),
  );
  const moments: [string, { shape: number[]; data: ArrayLike<number> }][] = [];
  for (const p of params) {
    moments.push([`${p.name}.exp_avg`, { shape: p.shape, data: opt.expAvg.get(p.name)! }]);
    moments.push([`${p.name}.exp_avg_sq`, { shape: p.shape, data: opt.expAvgSq.get(p.name)! }]);
  }
  writeSafetensors(join(tmp, "optimizer.safetensors"), moments);
  writeFileSync(join(tmp, "trainer_state.json"), JSON.stringify({ ...state, adamStep: opt.step }, null, 2));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  for (const old of listCheckpointSteps(outDir).slice(0, -keep))
    rmSync(join(root, `${PREFIX}${old}`), { recursive: true, force: true });
  return final;
}

/** Steps of complete checkpoints, ascending; leftovers of killed writes are removed. */
export function listCheckpointSteps(outDir: string): number[] {
  const root = checkpointsDir(outDir);
  if (!existsSync(root)) return [];
  const steps: number[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith(".tmp-")) {
      rmSync(join(root, name), { recursive: true, force: true });
      continue;
    }
    if (name.startsWith(PREFIX) && existsSync(join(root, name, "trainer_state.json")))
      steps.push(Number(name.slice(PREFIX.length)));
  }
  return steps.filter((s) => Number.isInteger(s)).sort((a, b) => a - b);
}

/** Loads a checkpoint's weights and moments into `params` and `opt`; returns its trainer state. */
export function loadCheckpoint(dir: string, params: Param[], opt: AdamWState): TrainerState {
  const state = JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8")) as TrainerState;
  const weights = readSafetensors(join(dir, "trainable.safetensors"));
  const moments = readSafetensors(join(dir, "optimizer.safetensors"));
  for (const p of params) {
    const w = weights.get(p.name);
    const m = moments.get(`${p.name}.exp_avg`);
    const v = moments.get(`${p.name}.exp_avg_sq`);
    if (!w || !m || !v || w.data.length !== p.data.length) {
      throw new EngineError(
        "checkpoint_invalid",
        `${dir}: tensor ${p.name} is missing or has another shape; the run config changed since it was saved`,
      );
    }
    p.data.set(w.data);
    opt.expAvg.get(p.name)!.set(m.data);
    opt.expAvgSq.get(p.name)!.set(v.data);
  }
  opt.step = state.adamStep;
  return state;
}
