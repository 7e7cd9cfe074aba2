/**
 * `npm run demo:kd`: the distillation evidence on the demo's task, headless and in process.
 * From the same base student, with the same number of optimizer steps, SFT on the teacher's
 * traces vs logit KD vs on-policy distillation, held-out accuracy every N steps. Last line:
 * {"sft": {"steps_to_90", "final_accuracy"}, "logit": {…}, "on_policy": {…}, …}.
 *
 *   npm run demo:kd -- [--steps 400] [--eval-every 50] [--heldout 100] [--modes sft,logit,on_policy,on_policy_mixed]
 *     [--on-policy-beta 1] [--kd-temperature 4 (logit; on-policy 1)] [--kd-alpha 0] [--lr 5e-3] [--seed 1] [--dir D] [--quiet]
 *     [--studio [--database-url URL (default $DATABASE_URL)] [--studio-url http://localhost:3000]]
 *
 * `--studio` also records the student runs in a studio's database (the one `npm start` serves)
 * as studio runs, with held-out accuracy as the series `heldout_accuracy`, so /runs/compare
 * overlays accuracy, KD loss, CE loss and top-1 agreement; the JSON line then gains
 * `studio: { runs, compare }`. The training itself is the same in-process comparison.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { EngineEvent } from "@distillery/core";
import { createDb } from "@distillery/db";
import { type RecordedKdRun, recordKdRuns } from "../src/record-kd-runs.ts";
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
    seed: { type: "string" },
    quiet: { type: "boolean" },
    studio: { type: "boolean" },
    "database-url": { type: "string" },
    "studio-url": { type: "string" },
  },
});
const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (values.studio && !databaseUrl) {
  process.stderr.write(
    "demo:kd --studio records the runs in a studio's database: pass --database-url or set DATABASE_URL (the URL `npm start` serves)\n",
  );
  process.exit(2);
}
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "distillery-kd-"));
const log = (s: string) => {
  if (!values.quiet) process.stderr.write(`${s}\n`);
};
/** each student run's metric events (--studio records them) */
const metrics = new Map<string, Extract<EngineEvent, { type: "metric" }>[]>();
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
  seed: num(values.seed),
  onPhase: (phase, s) => log(`[${s.toFixed(1)} s] ${phase}`),
  onEvent: (run, e) => {
    if (values.studio && e.type === "metric" && run.startsWith("student-")) {
      const mode = run.slice("student-".length);
      metrics.set(mode, [...(metrics.get(mode) ?? []), e]);
    }
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
if (values.studio && databaseUrl) {
  const db = createDb(databaseUrl, { max: 2 });
  const recorded: RecordedKdRun[] = Object.entries(result.curves).map(([mode, curve]) => ({
    mode: mode as KdMode,
    config: curve.config,
    metrics: metrics.get(mode) ?? [],
    curve,
  }));
  const ids = await recordKdRuns(db, recorded);
  await db.$disconnect();
  const compare = `${(values["studio-url"] ?? "http://localhost:3000").replace(/\/+$/, "")}/runs/compare?ids=${ids.join(",")}`;
  log(`studio runs ${ids.join(", ")}: ${compare}`);
  summary.studio = { runs: ids, compare };
}
console.log(
  JSON.stringify({
    ...summary,
    teacher_accuracy: result.teacher_accuracy,
    base_accuracy: result.base_accuracy,
    wall_s: Math.round(result.wall_s * 10) / 10,
  }),
);
