import { join } from "node:path";
import { BUILTIN_TEMPLATES, type RunConfig, toEngineExample } from "@distillery/core";
import { createTinyModel, type LlamaConfig } from "@distillery/engine-local";
import type { EvalTask } from "@distillery/evals";
import { type DemoProblemSets, generateProblems } from "./addition-problems.ts";
import { toTraceExample } from "./demo-examples.ts";
import { createBaseRunConfig, createDistillRunConfig } from "./demo-run-configs.ts";
import { DEMO_MODEL, DEMO_MODEL_IDS, DEMO_TASK, DEMO_VERSION_IDS } from "./demo-settings.ts";
import { buildHeldoutTasks } from "./heldout-tasks.ts";
import { buildDirectRows, type DemoDatasets, writeDemoDatasets } from "./write-demo-datasets.ts";

export interface DemoPlanOptions {
  seed?: number;
  /** problem counts; the defaults are DEMO_TASK's (tests pass smaller ones) */
  trainSize?: number;
  heldoutSize?: number;
  versionIds?: Partial<typeof DEMO_VERSION_IDS>;
  modelIds?: Partial<typeof DEMO_MODEL_IDS>;
}

export interface DemoPlan {
  problems: DemoProblemSets;
  /** dataset versions written under `<dir>/datasets/<id>/rows.jsonl.gz` */
  datasets: DemoDatasets;
  /** the untrained student (HF model dir) the base run starts from: `<dir>/models/init` */
  studentInit: { id: string; dir: string; config: LlamaConfig };
  /** run (a): full training of the init model on direct answers */
  baseRunConfig: RunConfig;
  /** run (b): LoRA distillation of run (a)'s model (`modelIds.base`) on the teacher's traces */
  distillRunConfig: RunConfig;
  heldoutTasks: EvalTask[];
}

/**
 * Everything the demo needs, written under `dir`: the three dataset versions, the untrained
 * student (its byte-level tokenizer built from the task's own text), both run configs and
 * the held-out eval tasks. Deterministic in `seed`.
 */
export async function buildDemoPlan(dir: string, options: DemoPlanOptions = {}): Promise<DemoPlan> {
  const seed = options.seed ?? 1;
  const versionIds = { ...DEMO_VERSION_IDS, ...options.versionIds };
  const modelIds = { ...DEMO_MODEL_IDS, ...options.modelIds };
  const problems = generateProblems({
    seed,
    digits: DEMO_TASK.digits,
    trainSize: options.trainSize ?? DEMO_TASK.trainSize,
    heldoutSize: options.heldoutSize ?? DEMO_TASK.heldoutSize,
  });
  const datasets = await writeDemoDatasets(join(dir, "datasets"), problems, versionIds);
  const spec = BUILTIN_TEMPLATES.phi3;
  // the tokenizer sees the task's rendered text; <think> tags are left to the distillation run
  const corpus = [
    ...buildDirectRows(problems).slice(0, 200),
    ...problems.train.slice(0, 200).map(toTraceExample),
  ].map((row) => {
    const e = toEngineExample(row, spec);
    return (e.prompt + e.completion).replace(/<\/?think>/g, "");
  });
  const initDir = join(dir, "models", "init");
  const config = createTinyModel(initDir, { corpus, ...DEMO_MODEL, template: "phi3", seed });
  const ids = (trainVersionId: string, modelId: string) => ({
    modelId,
    trainVersionId,
    heldoutVersionId: versionIds.heldout,
  });
  return {
    problems,
    datasets,
    studentInit: { id: modelIds.init, dir: initDir, config },
    baseRunConfig: createBaseRunConfig(ids(versionIds.direct, modelIds.init)),
    distillRunConfig: createDistillRunConfig(ids(versionIds.traces, modelIds.base)),
    heldoutTasks: buildHeldoutTasks(problems.heldout),
  };
}
