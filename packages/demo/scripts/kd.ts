/**
 * `npm run demo:kd`: the distillation evidence on the demo's task, headless and in process.
 * From the same base student, with the same number of optimizer steps, SFT on the teacher's
 * traces vs logit KD vs on-policy distillation, held-out accuracy every N steps. Last line:
 * {"sft": {"steps_to_90", "final_accuracy"}, "logit": {…}, "on_policy": {…}, …}.
 *
 *   npm run demo:kd -- [--steps 400] [--eval-every 50] [--heldout 100] [--modes sft,logit,on_policy,on_policy_mixed]
 *     [--on-policy-beta 1] [--kd-temperature 4 (logit; on-policy 1)] [--kd-alpha 0] [--lr 5e-3] [--dir D] [--quiet]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type KdMode, runKdComparison } from "../src/run-kd-comparison.ts";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    steps: { type: "string" },
    "eval-every": { type: "string" },
    heldout: { type: "string" },
    "base-steps": { type: "string" },
    "teacher-steps": { type: "string" },
    modes: { type: "string" },
    "on-policy-beta": { type: "string" },
    "kd-temperature": { type: "string" },
    "kd-alpha": { type: "string" },
    lr: { type: "string" },
    quiet: { type: "boolean" },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "distillery-kd-"));
const log = (s: string) => {
  if (!values.quiet) process.stderr.write(`${s}\n`);
};
const result = await runKdComparison(dir, {
  steps: num(values.steps),
  evalEvery: num(values["eval-every"]),
  heldoutSize: num(values.heldout) ?? 100,
  baseSteps: num(values["base-steps"]),
  teacherSteps: num(values["teacher-steps"]),
  modes: values.modes?.split(",") as KdMode[] | undefined,
  onPolicyBeta: num(values["on-policy-beta"]),
  kdTemperature: num(values["kd-temperature"]),
  kdAlpha: num(values["kd-alpha"]),
  learningRate: num(values.lr),
  onPhase: (phase, s) => log(`[${s.toFixed(1)} s] ${phase}`),
  onEvent: (run, e) => {
    if (e.type === "error") log(`${run} error: ${e.message}`);
    else if (e.type === "log" && e.level !== "info") log(`${run} ${e.level}: ${e.message}`);
  },
});
for (const [mode, c] of Object.entries(result.curves))
  log(
    `${mode}: ${c.points.map((p) => `${p.step}:${p.accuracy.toFixed(2)}`).join(" ")}  last ${JSON.stringify(c.last_metrics)}`,
  );
const summary: Record<string, unknown> = {};
for (const [mode, c] of Object.entries(result.curves))
  summary[mode] = {
    steps_to_90: c.steps_to_90,
    final_accuracy: c.final_accuracy,
    curve: c.points,
    wall_s: c.wall_s,
  };
console.log(
  JSON.stringify({
    ...summary,
    teacher_accuracy: result.teacher_accuracy,
    base_accuracy: result.base_accuracy,
    wall_s: Math.round(result.wall_s * 10) / 10,
  }),
);
