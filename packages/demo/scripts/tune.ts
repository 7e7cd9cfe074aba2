/**
 * The demo's whole ML pipeline, in process (no services): create the student → train the base
 * → evaluate it → distill → evaluate the student. Last line: one JSON object
 * {"base_accuracy", "distilled_accuracy", "heldout", "wall_s"}.
 *
 *   npx tsx packages/demo/scripts/tune.ts [--dir <dir>] [--seed 1] [--base-steps N] [--distill-steps N] [--heldout N] [--quiet]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runDemoPipeline } from "../src/run-demo-pipeline.ts";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    seed: { type: "string" },
    "base-steps": { type: "string" },
    "distill-steps": { type: "string" },
    heldout: { type: "string" },
    quiet: { type: "boolean" },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "distillery-demo-"));
const log = (s: string) => {
  if (!values.quiet) process.stderr.write(`${s}\n`);
};

const result = await runDemoPipeline(dir, {
  seed: num(values.seed),
  baseSteps: num(values["base-steps"]),
  distillSteps: num(values["distill-steps"]),
  heldoutSize: num(values.heldout),
  onPhase: (phase, s) => log(`[${s.toFixed(1)} s] ${phase}`),
  onEvent: (run, e) => {
    if (e.type === "metric" && e.values.loss !== undefined) {
      log(
        `${run} step ${e.step} loss ${e.values.loss.toFixed(3)} (${(e.values.tokens_per_second ?? 0).toFixed(0)} tok/s)`,
      );
    } else if (e.type === "metric" && e.values.eval_loss !== undefined)
      log(`${run} step ${e.step} eval_loss ${e.values.eval_loss.toFixed(3)}`);
    else if (e.type === "sample") log(`${run} sample @${e.step}: ${JSON.stringify(e.output)}`);
    else if (e.type === "error") log(`${run} error: ${e.message}`);
  },
});
log(`base: ${JSON.stringify(result.base.outputs[0]?.outputs[0])}`);
log(`distilled: ${JSON.stringify(result.distilled.outputs[0]?.outputs[0])}`);
log(`distilled metrics: ${JSON.stringify(result.distilled.metrics)} (dir ${dir})`);
console.log(
  JSON.stringify({
    base_accuracy: result.base_accuracy,
    distilled_accuracy: result.distilled_accuracy,
    heldout: result.heldout,
    wall_s: Math.round(result.wall_s * 10) / 10,
  }),
);
